#include "gateway/server/request_framing.hpp"

#include <vector>

namespace gw {

namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

FramingProblem bad_request(std::string message) {
  return {400, std::move(message), "bad_request"};
}

}  // namespace

std::optional<FramingProblem> check_transfer_encoding(std::span<const std::string_view> values,
                                                      unsigned version) {
  if (values.empty()) return std::nullopt;
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing.
  if (version < 11) return bad_request("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  std::vector<std::string_view> codings;
  for (std::string_view value : values) {
    for (;;) {
      auto comma = value.find(',');
      codings.push_back(trim(value.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  std::size_t chunked = 0;
  for (auto c : codings) {
    if (equals_ignoring_case(c, "chunked")) {
      ++chunked;
    } else {
      // Anything else (identity, gzip, a typo, an empty element, parameters) we do not decode.
      return FramingProblem{501,
                            "transfer coding '" + std::string(c.substr(0, 32)) +
                                "' is not supported: send Content-Length or "
                                "'Transfer-Encoding: chunked'",
                            "unsupported_transfer_coding"};
    }
  }
  if (chunked != 1) return bad_request("'chunked' must be applied exactly once");
  return std::nullopt;
}

std::optional<FramingProblem> check_host(std::size_t host_fields, unsigned version) {
  if (host_fields > 1) return bad_request("a request must carry one Host header, not several");
  if (host_fields == 0 && version >= 11) {
    return bad_request("an HTTP/1.1 request must carry a Host header");
  }
  return std::nullopt;
}

}  // namespace gw
