#pragma once
// One request as `replay` and `calibrate` see it, read from an hg.outcome/1 row (the draft and
// escalate arms) or an hg.decision/1 row (the gateway's decision log): every signal the rules
// read, the tokens of each leg, and the quality labels when there are any.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config/config.hpp"
#include "policies/logprob_summary.hpp"

namespace gw::eval {

inline constexpr std::string_view kDecisionSchema = "hg.decision/1";

struct LegTokens {
  std::optional<double> prompt_tokens;
  std::optional<double> completion_tokens;
  std::optional<double> cost_usd;  // as recorded (fallback when tokens are unknown)
};

struct RoutedRow {
  std::string id;
  std::string prompt;  // empty when not recorded (decision log without --log-prompts)
  std::uint64_t prompt_chars = 0;
  bool has_draft = false;                 // false: no draft was recorded (decided before drafting)
  std::optional<std::string> draft_text;  // nullopt: not recorded
  std::uint64_t draft_chars = 0;
  std::string finish_reason;
  std::optional<bool> refusal_matched;  // decision log: what the gateway's patterns said
  policies::LogprobSummary logprobs;
  // A decision-log row of a stream: the summary of the prefix the gateway judged (its n tokens).
  std::optional<policies::LogprobSummary> held_logprobs;
  LegTokens draft;
  LegTokens escalate;  // the large model's answer (an outcome row's escalate arm)
  std::optional<double> quality_draft;
  std::optional<double> quality_escalate;
  // A decision-log row: what the gateway did.
  std::string recorded_route;
  std::string recorded_reason;
};

// Reads a row of either schema; nullopt for other rows (with `why`).
std::optional<RoutedRow> read_routed_row(const nlohmann::json& row, std::string& why);

// Token logprobs with exactly the summary's n, mean, min and p10 (nearest rank), so
// policies::judge computes the same statistics from them: min, then p10 repeated up to its
// rank, then the rest at the value that restores the mean. Empty when n or mean is unknown.
std::vector<double> logprobs_with_summary(const policies::LogprobSummary& s);

// A model's price applied to a leg's tokens (completion tokens capped at `completion_cap`
// when given: a held prefix); the recorded cost when tokens are unknown; 0 when neither.
double leg_cost_usd(const LegTokens& leg, const config::Price& price,
                    std::optional<double> completion_cap = std::nullopt);

}  // namespace gw::eval
