#include "policies/judge.hpp"

#include <cstdint>
#include <numeric>

#include "policies/utf8.hpp"

namespace gw::policies {

Verdict judge(const Rules& rules, const Draft& draft) {
  const auto& spec = rules.after_draft();
  if (draft.complete && spec.finish_reason_length && draft.finish_reason == "length") {
    return Verdict::escalate_for(Reason::finish_reason_length);
  }
  if (rules.first_refusal(draft.text)) return Verdict::escalate_for(Reason::refusal);
  if (spec.mean_logprob_under && !draft.logprobs.empty()) {
    const double sum = std::accumulate(draft.logprobs.begin(), draft.logprobs.end(), 0.0);
    const double mean = sum / static_cast<double>(draft.logprobs.size());
    if (mean < *spec.mean_logprob_under) return Verdict::escalate_for(Reason::mean_logprob_under);
  }
  const std::uint64_t chars = code_points(draft.text);
  if (draft.complete && spec.chars_under > 0 && chars < spec.chars_under) {
    return Verdict::escalate_for(Reason::chars_under);
  }
  if (spec.chars_over > 0 && chars > spec.chars_over) {
    return Verdict::escalate_for(Reason::chars_over);
  }
  return Verdict::keep();
}

bool can_still_escalate_later(const Rules& rules, const Draft& prefix) {
  if (prefix.complete) return false;
  const auto& spec = rules.after_draft();
  // Text still to come can match a pattern, drag the mean down, or end with "length".
  if (!spec.refusal.empty() || spec.mean_logprob_under || spec.finish_reason_length) return true;
  // chars_over can be reached by more text; chars_under only until it is passed.
  if (spec.chars_over > 0) return true;
  return spec.chars_under > 0 && code_points(prefix.text) < spec.chars_under;
}

}  // namespace gw::policies
