#pragma once
// After drafting: is the small model's draft good enough to send?

#include <optional>
#include <span>
#include <string_view>

#include "policies/requested_output.hpp"
#include "policies/rules.hpp"
#include "policies/tool_calls.hpp"
#include "policies/verdict.hpp"

namespace gw::policies {

// A draft as the gateway holds it. Views only: the caller owns the text.
struct Draft {
  std::string_view text;
  std::string_view finish_reason;    // "stop", "length", ...; empty while streaming
  std::span<const double> logprobs;  // per token; empty when the model sent none
  bool complete = true;              // false: only a prefix of a stream being held
  // The first token's top-1 minus top-2 logprob (from top_logprobs); nullopt when the model
  // sent fewer than two alternatives for it.
  std::optional<double> first_margin = std::nullopt;
  // The draft's complete tool calls (arguments whole); a tool call still arriving in a
  // stream is not among them, it sets tool_call_open.
  std::span<const ToolCall> tool_calls = {};
  bool tool_call_open = false;
  // What the request asked the answer to be; nullptr = a plain text request.
  const RequestedOutput* requested = nullptr;
};

// What a draft is, which decides the rules that judge it:
//   tool_calls: it calls a tool (a text preamble before the call is not the answer);
//   structured: the request set response_format json_object/json_schema and it calls no tool;
//   text:       anything else.
enum class AnswerKind { text, tool_calls, structured };
AnswerKind kind_of(const Draft& draft);

// keep() = accept the draft; escalate_for(reason) = ask the large model.
// Rules in order, the first that fires wins (this order is tested):
//   1. finish_reason_length: finish_reason == "length"            (complete only)
//   1a. invalid_tool_call:   a complete tool call that tool_call_problem() rejects
//                            (tool_calls answers; any request, `tools` or not)
//   1b. invalid_json:        structured_output_problem() rejects the text
//                            (structured answers; complete only)
//   2. refusal:              any after_draft.refusal pattern found in text
//   3. mean_logprob_under:   mean(logprobs) < threshold, strictly;
//                            cannot fire without at least one logprob,
//                            nor when a NaN logprob makes the mean NaN
//   3a. min_logprob_under:  min(logprobs) < threshold, strictly
//   3b. p10_logprob_under:  nearest_rank_percentile(logprobs, 10) < threshold, strictly
//                           (see policies/logprob_summary.hpp for the exact definition)
//   3c. first_margin_under: first_margin < threshold, strictly; needs first_margin
//                           Like 3, 3a-3c cannot fire without logprobs or on a NaN.
//   4. chars_under:          chars < threshold, strictly           (complete only)
//   5. chars_over:           chars > threshold, strictly
// Why this order: a reason is what operators read in the escalation header
// and metrics, so the most specific cause wins. A truncated draft (1) is
// usually also too long (5) and says more; what the model said (2) and how
// unsure it was (3) explain a draft better than its length (4, 5), which are
// the coarse catch-alls.
// On a prefix (complete == false) only 2, 3, 3a-3c and 5 can fire: the end of the
// draft is not known yet, and a prefix already over chars_over stays over.
// A refusal pattern ending in \b or $ can fire on a prefix that its
// continuation would not match ("I don't know" + "ledge"); holding is a bet.
// An empty complete draft escalates for chars_under when that rule is on and
// is accepted otherwise. The gateway does not rely on that: it treats an
// empty draft as a failed draft itself, whatever this returns.
// The text rules 2 (refusal), 4 and 5 judge text answers only: for a tool call the answer
// is the call, for structured output it is the JSON, which 1a/1b judge (an 11-character
// `{"ok":true}` is a whole answer, not a short one). Confidence rules (3-3c) and 1 judge
// every kind.
// Characters are Unicode code points (see utf8::code_points()).
Verdict judge(const Rules& rules, const Draft& draft);

// For the streaming hold: after judge() accepted `prefix`, could a longer
// prefix or the completed draft still escalate? false means the hold can be
// released now. Always false for a complete draft.
bool can_still_escalate_later(const Rules& rules, const Draft& prefix);

// For the streaming hold: must the hold go on past its token window? true while the part
// arriving can only be judged whole: an open tool call (its arguments are useless to a client
// half-done), or structured output that invalid_json will judge. False for a complete draft.
bool hold_past_window(const Rules& rules, const Draft& prefix);

}  // namespace gw::policies
