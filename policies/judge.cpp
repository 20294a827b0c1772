#include "policies/judge.hpp"

#include <cstdint>
#include <numeric>

#include "base/utf8.hpp"
#include "policies/logprob_summary.hpp"
#include "policies/structured_output.hpp"
#include "policies/tool_calls.hpp"

namespace gw::policies {
namespace {

const RequestedOutput kPlainText;

}  // namespace

AnswerKind kind_of(const Draft& draft) {
  if (!draft.tool_calls.empty() || draft.tool_call_open) return AnswerKind::tool_calls;
  if (draft.requested && draft.requested->wants_json()) return AnswerKind::structured;
  return AnswerKind::text;
}

Verdict judge(const Rules& rules, const Draft& draft) {
  const auto& spec = rules.after_draft();
  if (draft.complete && spec.finish_reason_length && draft.finish_reason == "length") {
    return Verdict::escalate_for(Reason::finish_reason_length);
  }
  const AnswerKind kind = kind_of(draft);
  const RequestedOutput& requested = draft.requested ? *draft.requested : kPlainText;
  if (spec.invalid_tool_call && first_tool_call_problem(requested, draft.tool_calls)) {
    return Verdict::escalate_for(Reason::invalid_tool_call);
  }
  if (spec.invalid_json && kind == AnswerKind::structured && draft.complete &&
      structured_output_problem(requested.format, draft.text)) {
    return Verdict::escalate_for(Reason::invalid_json);
  }
  const bool text = kind == AnswerKind::text;
  if (text && rules.first_refusal(draft.text)) return Verdict::escalate_for(Reason::refusal);
  if (spec.mean_logprob_under && !draft.logprobs.empty()) {
    const double sum = std::accumulate(draft.logprobs.begin(), draft.logprobs.end(), 0.0);
    const double mean = sum / static_cast<double>(draft.logprobs.size());
    if (mean < *spec.mean_logprob_under) return Verdict::escalate_for(Reason::mean_logprob_under);
  }
  if ((spec.min_logprob_under || spec.p10_logprob_under) && !draft.logprobs.empty()) {
    // Logprobs present: min and p10 are set (checked anyway, so no path reads an empty optional).
    const LogprobSummary s = summarize_logprobs(draft.logprobs, std::nullopt);
    if (spec.min_logprob_under && s.min && *s.min < *spec.min_logprob_under) {
      return Verdict::escalate_for(Reason::min_logprob_under);
    }
    if (spec.p10_logprob_under && s.p10 && *s.p10 < *spec.p10_logprob_under) {
      return Verdict::escalate_for(Reason::p10_logprob_under);
    }
  }
  if (spec.first_margin_under && draft.first_margin &&
      *draft.first_margin < *spec.first_margin_under) {
    return Verdict::escalate_for(Reason::first_margin_under);
  }
  if (!text) return Verdict::keep();
  const std::uint64_t chars = utf8::code_points(draft.text);
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
  // A tool call or the JSON still to come is judged whole (see hold_past_window()); a tool
  // call can follow a text preamble whenever the request offers tools.
  if (prefix.tool_call_open) return true;
  if (spec.invalid_tool_call && prefix.requested && prefix.requested->offers_tools()) return true;
  if (spec.invalid_json && kind_of(prefix) == AnswerKind::structured) return true;
  // Text still to come can match a pattern, drag the mean down, or end with "length".
  if (!spec.refusal.empty() || spec.mean_logprob_under || spec.finish_reason_length) return true;
  // More tokens can only lower the minimum, and can move the 10th percentile either way.
  if (spec.min_logprob_under || spec.p10_logprob_under) return true;
  // The first token's margin is fixed once that token has come.
  if (spec.first_margin_under && prefix.logprobs.empty() && !prefix.first_margin) return true;
  // chars_over can be reached by more text; chars_under only until it is passed.
  if (spec.chars_over > 0) return true;
  return spec.chars_under > 0 && utf8::code_points(prefix.text) < spec.chars_under;
}

bool hold_past_window(const Rules& rules, const Draft& prefix) {
  if (prefix.complete) return false;
  if (prefix.tool_call_open) return true;
  return rules.after_draft().invalid_json && kind_of(prefix) == AnswerKind::structured;
}

}  // namespace gw::policies
