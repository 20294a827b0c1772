#include "policies/before_draft.hpp"

namespace gw::policies {

Verdict before_draft(const Rules& rules, const PromptStats& prompt) {
  const auto& spec = rules.before_draft();
  if (spec.prompt_chars_over > 0 && prompt.chars > spec.prompt_chars_over) {
    return Verdict::escalate_for(Reason::prompt_chars_over);
  }
  if (rules.first_match(prompt.text)) return Verdict::escalate_for(Reason::match);
  return Verdict::keep();
}

}  // namespace gw::policies
