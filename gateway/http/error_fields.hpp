#pragma once
// The few fields of an upstream's error body the gateway relays, read without building the
// body's JSON tree: the body is untrusted (any size within its read limit, any nesting), and a
// tree of it would have to be re-serialised, recursively, to be relayed.

#include <optional>
#include <string>
#include <string_view>

namespace gw::http {

struct ErrorFields {
  // {"error":{"message":...,"type":...,"code":...,"param":...}}: each present when a scalar
  // (numbers and booleans as their JSON text; nested values are ignored).
  std::optional<std::string> message, type, code, param;
  std::optional<std::string> text;  // {"error":"text"} (Ollama, llama.cpp)
  bool error_object = false;        // "error" was an object
};

// Bounded: past this nesting the body is not read as JSON at all.
inline constexpr int kMaxErrorBodyDepth = 32;

// The fields of a JSON error body; nullopt when `body` is not JSON, nests deeper than
// `max_depth`, or has no top-level "error" member that is an object or a string.
std::optional<ErrorFields> read_error_fields(std::string_view body,
                                             int max_depth = kMaxErrorBodyDepth);

}  // namespace gw::http
