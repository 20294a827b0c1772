#pragma once
// After drafting: is the small model's draft good enough to send?

#include <span>
#include <string_view>

#include "policies/rules.hpp"
#include "policies/verdict.hpp"

namespace gw::policies {

// A draft as the gateway holds it. Views only: the caller owns the text.
struct Draft {
  std::string_view text;
  std::string_view finish_reason;    // "stop", "length", ...; empty while streaming
  std::span<const double> logprobs;  // per token; empty when the model sent none
  bool complete = true;              // false: only a prefix of a stream being held
};

// keep() = accept the draft; escalate_for(reason) = ask the large model.
// Rules in order, the first that fires wins (this order is tested):
//   1. finish_reason_length: finish_reason == "length"            (complete only)
//   2. refusal:              any after_draft.refusal pattern found in text
//   3. mean_logprob_under:   mean(logprobs) < threshold, strictly;
//                            cannot fire without at least one logprob,
//                            nor when a NaN logprob makes the mean NaN
//   4. chars_under:          chars < threshold, strictly           (complete only)
//   5. chars_over:           chars > threshold, strictly
// Why this order: a reason is what operators read in the escalation header
// and metrics, so the most specific cause wins. A truncated draft (1) is
// usually also too long (5) and says more; what the model said (2) and how
// unsure it was (3) explain a draft better than its length (4, 5), which are
// the coarse catch-alls.
// On a prefix (complete == false) only 2, 3 and 5 can fire: the end of the
// draft is not known yet, and a prefix already over chars_over stays over.
// A refusal pattern ending in \b or $ can fire on a prefix that its
// continuation would not match ("I don't know" + "ledge"); holding is a bet.
// An empty complete draft escalates for chars_under when that rule is on and
// is accepted otherwise. The gateway does not rely on that: it treats an
// empty draft as a failed draft itself, whatever this returns.
// Characters are Unicode code points (see code_points()).
Verdict judge(const Rules& rules, const Draft& draft);

// For the streaming hold: after judge() accepted `prefix`, could a longer
// prefix or the completed draft still escalate? false means the hold can be
// released now. Always false for a complete draft.
bool can_still_escalate_later(const Rules& rules, const Draft& prefix);

}  // namespace gw::policies
