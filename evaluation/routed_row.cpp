#include "evaluation/routed_row.hpp"

#include <cmath>

#include "base/utf8.hpp"
#include "evaluation/outcome.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

const json* object_at(const json& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it != o.end() && it->is_object() ? &*it : nullptr;
}

policies::LogprobSummary read_summary(const json* lp) {
  policies::LogprobSummary s;
  if (!lp) return s;
  if (auto n = number_at(*lp, "n"); n && *n >= 0) s.n = static_cast<std::uint64_t>(*n);
  s.mean = number_at(*lp, "mean");
  s.min = number_at(*lp, "min");
  s.p10 = number_at(*lp, "p10");
  s.first_margin = number_at(*lp, "first_margin");
  return s;
}

LegTokens read_leg(const json* arm) {
  LegTokens t;
  if (!arm) return t;
  if (const json* usage = object_at(*arm, "usage")) {
    t.prompt_tokens = number_at(*usage, "prompt_tokens");
    t.completion_tokens = number_at(*usage, "completion_tokens");
  }
  t.cost_usd = number_at(*arm, "cost_usd");
  return t;
}

std::optional<double> quality_of(const json* arm) {
  if (!arm) return std::nullopt;
  const json* q = object_at(*arm, "quality");
  return q ? number_at(*q, "score") : std::nullopt;
}

// An arm that answered: status 200 (or no status recorded) and no error.
bool answered(const json* arm) {
  if (!arm) return false;
  if (auto status = number_at(*arm, "status"); status && *status != 200) return false;
  auto err = arm->find("error");
  return err == arm->end() || err->is_null();
}

void read_draft_leg(RoutedRow& r, const json& draft) {
  r.has_draft = true;
  if (auto it = draft.find("text"); it != draft.end() && it->is_string()) {
    r.draft_text = it->get<std::string>();
    r.draft_chars = utf8::code_points(*r.draft_text);
  }
  if (auto chars = number_at(draft, "chars")) r.draft_chars = static_cast<std::uint64_t>(*chars);
  r.finish_reason = string_at(draft, "finish_reason");
  if (auto it = draft.find("refusal_matched"); it != draft.end() && it->is_boolean()) {
    r.refusal_matched = it->get<bool>();
  }
  r.logprobs = read_summary(object_at(draft, "logprobs"));
  if (const json* hold = object_at(draft, "hold")) r.held_logprobs = read_summary(hold);
  r.draft = read_leg(&draft);
  r.quality_draft = quality_of(&draft);
}

}  // namespace

std::optional<RoutedRow> read_routed_row(const json& row, std::string& why) {
  if (!row.is_object()) {
    why = "not an object";
    return std::nullopt;
  }
  const std::string schema = string_at(row, "schema");
  RoutedRow r;
  r.id = string_at(row, "id");
  r.prompt = string_at(row, "prompt");
  if (auto chars = number_at(row, "prompt_chars")) {
    r.prompt_chars = static_cast<std::uint64_t>(*chars);
  } else {
    r.prompt_chars = utf8::code_points(r.prompt);
  }
  if (schema == kOutcomeSchema) {
    const json* arms = object_at(row, "arms");
    const json* draft = arms ? object_at(*arms, kArmDraft) : nullptr;
    const json* large = arms ? object_at(*arms, kArmEscalate) : nullptr;
    if (!answered(draft) || !answered(large)) {
      why = "no answered draft and escalate arms";
      return std::nullopt;
    }
    read_draft_leg(r, *draft);
    r.escalate = read_leg(large);
    r.quality_escalate = quality_of(large);
    return r;
  }
  if (schema == kDecisionSchema) {
    r.recorded_route = string_at(row, "route");
    r.recorded_reason = string_at(row, "reason");
    // A failed draft (fallback) carries no signals to replay.
    if (const json* draft = object_at(row, "draft"); draft && answered(draft)) {
      read_draft_leg(r, *draft);
    }
    if (const json* large = object_at(row, "escalate")) {
      r.escalate = read_leg(large);
    } else {
      // Not asked: the same tokens on the large model, as gateway_baseline_cost_usd_total counts.
      r.escalate.prompt_tokens = r.draft.prompt_tokens;
      r.escalate.completion_tokens = r.draft.completion_tokens;
      r.escalate.cost_usd = number_at(row, "baseline_cost_usd");
    }
    if (r.id.empty()) r.id = string_at(row, "request_id");
    return r;
  }
  why = "schema is neither hg.outcome/1 nor hg.decision/1";
  return std::nullopt;
}

std::vector<double> logprobs_with_summary(const policies::LogprobSummary& s) {
  std::vector<double> out;
  if (s.n == 0 || !s.mean) return out;
  const std::size_t n = s.n;
  const double lowest = s.min.value_or(*s.mean);
  const double p10 = s.p10.value_or(lowest);
  auto rank = static_cast<std::size_t>(
      std::ceil(policies::kLowTokenPercentile * static_cast<double>(n) / 100.0 - 1e-9));
  if (rank == 0) rank = 1;
  if (n == 1) return {*s.mean};
  out.push_back(lowest);
  for (std::size_t i = 1; i < rank; ++i) out.push_back(p10);
  if (out.size() < n) {
    const double rest_sum =
        *s.mean * static_cast<double>(n) - lowest - static_cast<double>(rank - 1) * p10;
    const double rest = rest_sum / static_cast<double>(n - out.size());
    while (out.size() < n) out.push_back(rest);
  }
  return out;
}

double leg_cost_usd(const LegTokens& leg, const config::Price& price,
                    std::optional<double> completion_cap) {
  if (leg.prompt_tokens || leg.completion_tokens) {
    double completion = leg.completion_tokens.value_or(0);
    if (completion_cap) completion = std::min(completion, *completion_cap);
    return (leg.prompt_tokens.value_or(0) * price.input_per_mtok +
            completion * price.output_per_mtok) /
           1e6;
  }
  return leg.cost_usd.value_or(0);
}

}  // namespace gw::eval
