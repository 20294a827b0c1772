#pragma once
// The shadow-escalation families (README "Shadow escalation"). Every label is a fixed set, so
// every child exists from the start (a rate over a series that is absent reads as no data) and
// the hot path only adds. Shadow spend has its own counter: it is never part of
// gateway_cost_usd_total or the baseline, so the savings figure is unchanged by measuring it.

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string_view>

#include "policies/agreement.hpp"

namespace gw {

enum class ShadowResult { completed, failed, dropped_inflight, dropped_budget, count };
inline constexpr std::size_t kShadowResults = static_cast<std::size_t>(ShadowResult::count);
std::string_view to_string(ShadowResult r);

// The original request's route: an accepted draft, or a before_draft escalation also drafted.
enum class ShadowOf { draft, escalated, count };
inline constexpr std::size_t kShadowOf = static_cast<std::size_t>(ShadowOf::count);

struct ShadowMetrics {
  explicit ShadowMetrics(prometheus::Registry& registry);

  prometheus::Counter& result(ShadowResult r) const {
    return *results[static_cast<std::size_t>(r)];
  }
  prometheus::Histogram& agreement_of(ShadowOf o) const {
    return *agreement[static_cast<std::size_t>(o)];
  }
  prometheus::Counter& verdict(ShadowOf o, policies::ShadowVerdict v) const {
    return *verdicts[static_cast<std::size_t>(o)][static_cast<std::size_t>(v)];
  }

  std::array<prometheus::Counter*, kShadowResults> results{};
  std::array<prometheus::Histogram*, kShadowOf> agreement{};
  // By the original's route too: the bad-accept rate is draft_worse over route="draft" only.
  std::array<std::array<prometheus::Counter*, policies::kShadowVerdicts>, kShadowOf> verdicts{};
  prometheus::Counter* cost_usd = nullptr;
};

}  // namespace gw
