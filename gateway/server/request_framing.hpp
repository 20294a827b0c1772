#pragma once
// RFC 9112 framing checks on a client request's head, made before any body byte is read: a
// request whose framing we would read differently from a proxy in front of us is refused and
// its connection closed, so its body can never be taken for a second request (smuggling).
// Pure: field values in, a verdict out.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gw {

struct FramingProblem {
  unsigned status;      // 400 or 501
  std::string message;  // for the client
  std::string code;     // OpenAI error code
};

// `values`: every Transfer-Encoding field line of the request; `version`: 10 or 11.
// Accepted: none at all, or exactly the one coding `chunked` (HTTP/1.1 only).
std::optional<FramingProblem> check_transfer_encoding(std::span<const std::string_view> values,
                                                      unsigned version);

// HTTP/1.1 requires exactly one Host field (RFC 9112 §3.2); HTTP/1.0 at most one.
std::optional<FramingProblem> check_host(std::size_t host_fields, unsigned version);

}  // namespace gw
