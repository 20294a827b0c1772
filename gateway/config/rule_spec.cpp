#include "gateway/config/rule_spec.hpp"

namespace gw::config {

policies::RuleSpec rule_spec_of(const Routing& r) {
  policies::RuleSpec spec;
  spec.before_draft.prompt_chars_over = r.before_draft.prompt_chars_over;
  spec.before_draft.match = r.before_draft.match;
  spec.after_draft.chars_under = r.after_draft.chars_under;
  spec.after_draft.chars_over = r.after_draft.chars_over;
  spec.after_draft.finish_reason_length = r.after_draft.finish_reason_length;
  spec.after_draft.refusal = r.after_draft.refusal;
  spec.after_draft.invalid_tool_call = r.after_draft.invalid_tool_call;
  spec.after_draft.invalid_json = r.after_draft.invalid_json;
  // Unset in the config means no mean-logprob rule, not a threshold of zero.
  if (r.after_draft.has_mean_logprob_under) {
    spec.after_draft.mean_logprob_under = r.after_draft.mean_logprob_under;
  }
  spec.after_draft.min_logprob_under = r.after_draft.min_logprob_under;
  spec.after_draft.p10_logprob_under = r.after_draft.p10_logprob_under;
  spec.after_draft.first_margin_under = r.after_draft.first_margin_under;
  return spec;
}

}  // namespace gw::config
