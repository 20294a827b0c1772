#pragma once
// Before drafting: should this prompt skip the small model?

#include "policies/prompt.hpp"
#include "policies/rules.hpp"
#include "policies/verdict.hpp"

namespace gw::policies {

// keep() = draft with the small model; escalate_for(reason) = go straight to
// the large model. Rules in order, the first that fires wins:
//   1. prompt_chars_over: prompt.chars > threshold (strictly), threshold > 0
//   2. match: any before_draft.match pattern found in prompt.text
// The cheap length check runs first, so a huge prompt is never regex-scanned.
Verdict before_draft(const Rules& rules, const PromptStats& prompt);

}  // namespace gw::policies
