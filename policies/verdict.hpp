#pragma once

#include <optional>
#include <string_view>

namespace gw::policies {

// Why a request went to the escalation model. The snake_case names returned by
// to_string() appear in HTTP headers and Prometheus labels: never rename them.
enum class Reason {
  none,
  prompt_chars_over,
  match,
  chars_under,
  chars_over,
  finish_reason_length,
  refusal,
  mean_logprob_under,
  min_logprob_under,
  p10_logprob_under,
  first_margin_under,
  invalid_tool_call,
  invalid_json,
  upstream_error,
};

std::string_view to_string(Reason reason);

// Inverse of to_string(); nullopt for an unknown name.
std::optional<Reason> parse_reason(std::string_view name);

// A routing decision with the rule that made it. escalate == false always
// carries Reason::none ("draft" before drafting, "accept" after judging).
struct Verdict {
  bool escalate = false;
  Reason reason = Reason::none;

  static constexpr Verdict keep() { return {false, Reason::none}; }
  static constexpr Verdict escalate_for(Reason why) { return {true, why}; }

  friend constexpr bool operator==(const Verdict&, const Verdict&) = default;
};

}  // namespace gw::policies
