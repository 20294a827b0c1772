#include "gateway/sim/directives.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace gw::sim {
namespace {

constexpr std::string_view kOpen = "[sim:";

template <typename T>
std::optional<T> number(std::string_view value) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(out)) return std::nullopt;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls on_match(begin, end_exclusive, inner) for every well-formed `[sim:...]`.
template <typename F>
void scan(std::string_view text, F&& on_match) {
  size_t pos = 0;
  while ((pos = text.find(kOpen, pos)) != std::string_view::npos) {
    const auto close = text.find(']', pos + kOpen.size());
    if (close == std::string_view::npos) return;
    on_match(pos, close + 1, text.substr(pos + kOpen.size(), close - pos - kOpen.size()));
    pos = close + 1;
  }
}

}  // namespace

std::vector<Directive> find_directives(std::string_view text) {
  std::vector<Directive> out;
  scan(text, [&](size_t, size_t, std::string_view inner) {
    Directive d;
    // Model names never contain '@', values might not either; the last '@' is the scope.
    if (const auto at = inner.rfind('@'); at != std::string_view::npos) {
      d.model = std::string(trim(inner.substr(at + 1)));
      inner = inner.substr(0, at);
    }
    const auto eq = inner.find('=');
    d.name = std::string(trim(inner.substr(0, eq)));
    if (eq != std::string_view::npos) d.value = std::string(trim(inner.substr(eq + 1)));
    if (!d.name.empty()) out.push_back(std::move(d));
  });
  return out;
}

std::string strip_directives(std::string_view text) {
  std::string out;
  size_t copied = 0;
  scan(text, [&](size_t begin, size_t end, std::string_view) {
    out.append(text.substr(copied, begin - copied));
    copied = end;
  });
  out.append(text.substr(copied));
  return out;
}

Script script_for(const std::vector<Directive>& directives, std::string_view model) {
  Script s;
  for (const Directive& d : directives) {
    if (!d.model.empty() && d.model != model) continue;
    const std::string_view n = d.name;
    const std::string_view v = d.value;
    if (n == "refuse") {
      s.refuse = true;
    } else if (n == "short") {
      s.short_answer = true;
    } else if (n == "long") {
      s.long_answer = true;
    } else if (n == "tokens") {
      if (auto x = number<uint32_t>(v)) s.tokens = x;
    } else if (n == "text") {
      std::string t(v);
      std::replace(t.begin(), t.end(), '_', ' ');
      s.text = std::move(t);
    } else if (n == "length") {
      s.force_length = true;
    } else if (n == "logprob") {
      if (auto x = number<double>(v); x && *x <= 0) s.logprob = x;
    } else if (n == "min_logprob") {
      if (auto x = number<double>(v); x && *x <= 0) s.min_logprob = x;
    } else if (n == "first_margin") {
      if (auto x = number<double>(v); x && *x >= 0) s.first_margin = x;
    } else if (n == "ttft") {
      if (auto x = number<uint32_t>(v)) s.ttft_ms = x;
    } else if (n == "tps") {
      if (auto x = number<double>(v); x && *x >= 0) s.tokens_per_s = x;
    } else if (n == "error") {
      if (auto x = number<unsigned>(v); x && *x >= 100 && *x <= 599) s.error_status = x;
    } else if (n == "retry_after") {
      if (auto x = number<uint32_t>(v)) s.retry_after_s = x;
    } else if (n == "garbage") {
      s.garbage = true;
    } else if (n == "empty") {
      s.empty = true;
    } else if (n == "cut") {
      if (auto x = number<uint32_t>(v)) s.cut_after = x;
    } else if (n == "stall") {
      s.stall = true;
    } else if (n == "stall_after") {
      if (auto x = number<uint32_t>(v)) s.stall_after = x;
    } else if (n == "no_usage") {
      s.no_usage = true;
    } else if (n == "echo") {
      s.echo = true;
    } else if (n == "tool") {
      if (!v.empty()) s.tool_name = std::string(v);
    } else if (n == "no_tool") {
      s.no_tool = true;
    } else if (n == "tool_args") {
      s.tool_args_not_object = v == "not_object";
      s.tool_missing_arg = v == "missing";
    } else if (n == "preamble") {
      std::string t(v);
      std::replace(t.begin(), t.end(), '_', ' ');
      s.preamble = std::move(t);
    } else if (n == "tool_pieces") {
      if (auto x = number<uint32_t>(v)) s.tool_pieces = x;
    } else if (n == "tool_calls") {
      if (auto x = number<uint32_t>(v)) s.tool_count = x;
    } else if (n == "bad_json") {
      s.bad_json = true;
    } else if (n == "json_missing") {
      s.json_missing = true;
    }
  }
  return s;
}

}  // namespace gw::sim
