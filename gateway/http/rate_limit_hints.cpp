#include "gateway/http/rate_limit_hints.hpp"

#include <algorithm>

namespace gw::http {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Visible ASCII and spaces only: no CR/LF (header injection), no NUL, no other controls.
bool printable_line(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u < 0x7f);
  });
}

}  // namespace

bool is_rate_limit_hint(std::string_view name) {
  constexpr std::string_view kPrefix = "x-ratelimit-";
  if (iequals(name, "retry-after") || iequals(name, "retry-after-ms")) return true;
  return name.size() > kPrefix.size() && iequals(name.substr(0, kPrefix.size()), kPrefix);
}

void keep_rate_limit_hint(HeaderLines& hints, std::string_view name, std::string_view value) {
  if (hints.size() >= kMaxRelayedHintHeaders || name.size() > kMaxRelayedHintNameBytes ||
      !is_rate_limit_hint(name) || !printable_line(name)) {
    return;
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > kMaxRelayedHintValueBytes || !printable_line(value)) return;
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), lower);
  if (has_header(hints, n)) return;  // the first of repeated headers wins
  hints.emplace_back(std::move(n), std::string(value));
}

bool has_header(const HeaderLines& lines, std::string_view lower_name) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const auto& line) { return line.first == lower_name; });
}

}  // namespace gw::http
