#pragma once
// How far a draft agrees with the large model's answer to the same request: the cheap measures
// shadow escalation (gateway/shadow/) records for a sampled accepted draft. Pure code.
//
// The verdict rule (README "Shadow escalation"), with the large model's answer as the reference:
// - tool calls on both sides: draft_ok when the same functions, in order, with JSON-equal
//   arguments; draft_worse otherwise. A tool call on one side only: draft_worse.
// - `numeric` on and the reference has a number (the last one in its text): draft_ok when the
//   draft's last number is the same after normalisation, draft_worse when it differs or the
//   draft has none.
// - otherwise `token_f1` on: draft_ok when token F1 >= token_f1_ok (0.5), tie below it (two
//   differently worded answers are not decidable without the judge).
// - nothing measurable: tie. draft_better is only ever the rubric judge's verdict.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policies/tool_calls.hpp"

namespace gw::policies {

inline constexpr double kTokenF1AgreeAtLeast = 0.5;

struct Answer {
  std::string_view text;
  std::span<const ToolCall> tool_calls;
};

struct AgreementOptions {
  bool numeric = true;   // compare: [numeric]
  bool token_f1 = true;  // compare: [token_f1]
  double token_f1_ok = kTokenF1AgreeAtLeast;
};

enum class ShadowVerdict { draft_ok, draft_worse, draft_better, tie };
inline constexpr std::size_t kShadowVerdicts = 4;
std::string_view to_string(ShadowVerdict v);

struct Agreement {
  std::optional<std::string> draft_number;  // normalised last number of each answer
  std::optional<std::string> reference_number;
  std::optional<bool> numeric_equal;     // set when both have a number
  std::optional<bool> tool_calls_equal;  // set when either side called a tool
  double token_f1 = 0;
  double length_ratio = 0;  // shorter / longer, in bytes
  // The agreement in [0,1] the verdict rests on (1/0 for numbers and tool calls, the F1 for
  // text); nullopt when nothing was measurable.
  std::optional<double> score;
  ShadowVerdict verdict = ShadowVerdict::tie;
  std::string_view basis = "none";  // "tool_calls", "numeric", "token_f1", "none"
};

Agreement compare_answers(const Answer& draft, const Answer& reference,
                          const AgreementOptions& options = {});

// The last number in `text`, normalised: thousands commas dropped ("1,234" but not "1,2"),
// trailing fractional zeros and a bare point dropped, "-0" is "0". nullopt when there is none.
std::optional<std::string> last_number(std::string_view text);
// F1 of the two answers' lower-cased alphanumeric tokens (as multisets); 1 when both are empty.
double token_f1(std::string_view a, std::string_view b);
// Shorter length over longer; 1 when both are empty.
double length_ratio(std::string_view a, std::string_view b);
// Both parse as JSON and are equal as values (key order ignored); otherwise byte-equal after
// trimming whitespace. Empty text counts as `{}`.
bool json_equal(std::string_view a, std::string_view b);

}  // namespace gw::policies
