#include "gateway/sim/logprob_shape.hpp"

#include <charconv>

#include "gateway/http/json_text.hpp"

namespace gw::sim {
namespace {

// A runner-up this far below the token when no margin is scripted.
constexpr double kDefaultRunnerUpGap = 1.0;

void append_double(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? end : buf);
}

void append_bytes(std::string& out, std::string_view token) {
  out += "\"bytes\":[";
  for (std::size_t k = 0; k < token.size(); ++k) {
    if (k) out += ',';
    out += std::to_string(static_cast<unsigned>(static_cast<unsigned char>(token[k])));
  }
  out += ']';
}

void append_alternative(std::string& out, std::string_view token, double logprob) {
  out += "{\"token\":";
  http::append_json_string(out, token);
  out += ",\"logprob\":";
  append_double(out, logprob);
  out += ',';
  append_bytes(out, token);
  out += '}';
}

}  // namespace

std::size_t dip_index(std::size_t n) {
  return n > 1 ? 1 : 0;
}

double token_logprob(const LogprobShape& shape, std::size_t i, std::size_t n) {
  if (shape.min_logprob && i == dip_index(n)) return *shape.min_logprob;
  return shape.logprob;
}

void append_logprob_entry(std::string& out, const LogprobShape& shape, std::string_view token,
                          std::size_t i, std::size_t n, std::uint32_t top) {
  const double lp = token_logprob(shape, i, n);
  out += "{\"token\":";
  http::append_json_string(out, token);
  out += ",\"logprob\":";
  append_double(out, lp);
  out += ',';
  append_bytes(out, token);
  out += ",\"top_logprobs\":[";
  if (top >= 1) append_alternative(out, token, lp);
  if (top >= 2) {
    out += ',';
    const double gap = i == 0 && shape.first_margin ? *shape.first_margin : kDefaultRunnerUpGap;
    append_alternative(out, " alt", lp - gap);
  }
  out += "]}";
}

}  // namespace gw::sim
