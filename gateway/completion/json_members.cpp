#include "gateway/completion/json_members.hpp"

#include <cstring>

namespace gw::chat {

namespace {

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i;
}

// Past the closing quote of the string opening at s[i]; npos if unterminated.
std::size_t end_of_string(std::string_view s, std::size_t i) {
  for (std::size_t from = i + 1; from < s.size();) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (q == nullptr) return std::string_view::npos;
    const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
    std::size_t backslashes = 0;
    while (k - backslashes > i + 1 && s[k - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return k + 1;
    from = k + 1;
  }
  return std::string_view::npos;
}

// Past the value starting at s[i] (a validated document: no syntax checks).
std::size_t end_of_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return end_of_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = end_of_string(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && !is_json_space(s[i])) ++i;
  return i;
}

}  // namespace

std::optional<std::vector<RawMember>> raw_members(std::string_view s) {
  std::vector<RawMember> members;
  std::size_t i = skip_space(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = skip_space(s, i + 1);
  if (i < s.size() && s[i] == '}') return members;
  while (i < s.size() && s[i] == '"') {
    const std::size_t key_end = end_of_string(s, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view key = s.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    for (const auto& m : members) {
      if (m.key == key) return std::nullopt;
    }
    std::size_t v = skip_space(s, key_end);
    if (v >= s.size() || s[v] != ':') return std::nullopt;
    const std::size_t value_end = end_of_value(s, skip_space(s, v + 1));
    if (value_end == std::string_view::npos) return std::nullopt;
    members.push_back({key, s.substr(i, value_end - i)});
    if (members.size() > kMaxSplicedMembers) return std::nullopt;
    i = skip_space(s, value_end);
    if (i < s.size() && s[i] == '}') return members;
    if (i >= s.size() || s[i] != ',') return std::nullopt;
    i = skip_space(s, i + 1);
  }
  return std::nullopt;
}

}  // namespace gw::chat
