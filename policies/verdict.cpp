#include "policies/verdict.hpp"

#include <array>
#include <utility>

namespace gw::policies {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 14> kNames{{
    {Reason::none, "none"},
    {Reason::prompt_chars_over, "prompt_chars_over"},
    {Reason::match, "match"},
    {Reason::chars_under, "chars_under"},
    {Reason::chars_over, "chars_over"},
    {Reason::finish_reason_length, "finish_reason_length"},
    {Reason::refusal, "refusal"},
    {Reason::mean_logprob_under, "mean_logprob_under"},
    {Reason::min_logprob_under, "min_logprob_under"},
    {Reason::p10_logprob_under, "p10_logprob_under"},
    {Reason::first_margin_under, "first_margin_under"},
    {Reason::invalid_tool_call, "invalid_tool_call"},
    {Reason::invalid_json, "invalid_json"},
    {Reason::upstream_error, "upstream_error"},
}};

}  // namespace

std::string_view to_string(Reason reason) {
  for (const auto& [r, name] : kNames) {
    if (r == reason) return name;
  }
  return "none";
}

std::optional<Reason> parse_reason(std::string_view name) {
  for (const auto& [r, n] : kNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

}  // namespace gw::policies
