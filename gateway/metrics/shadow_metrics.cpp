#include "gateway/metrics/shadow_metrics.hpp"

#include <string>

namespace gw {

namespace {
constexpr std::array<std::string_view, kShadowOf> kShadowOfRoutes = {"draft", "escalated"};
}  // namespace

std::string_view to_string(ShadowResult r) {
  switch (r) {
    case ShadowResult::completed:
      return "completed";
    case ShadowResult::failed:
      return "failed";
    case ShadowResult::dropped_inflight:
      return "dropped_inflight";
    case ShadowResult::dropped_budget:
      return "dropped_budget";
    case ShadowResult::count:
      break;
  }
  return "failed";
}

ShadowMetrics::ShadowMetrics(prometheus::Registry& registry) {
  auto& requests =
      prometheus::BuildCounter()
          .Name("gateway_shadow_requests_total")
          .Help(
              "Sampled shadow calls by result: completed, failed (never retried, never seen by "
              "the client), dropped at max_inflight or at budget_usd_per_hour")
          .Register(registry);
  for (std::size_t i = 0; i < kShadowResults; ++i) {
    results[i] = &requests.Add({{"result", std::string(to_string(static_cast<ShadowResult>(i)))}});
  }
  // 0..1 in tenths: numeric and tool-call agreement land on 0 or 1, token F1 in between.
  const prometheus::Histogram::BucketBoundaries buckets = {0.1, 0.2, 0.3, 0.4, 0.5,
                                                           0.6, 0.7, 0.8, 0.9, 1.0};
  auto& agreement_family =
      prometheus::BuildHistogram()
          .Name("gateway_shadow_agreement")
          .Help(
              "Agreement in [0,1] between the draft and the large model's answer of a shadowed "
              "request, by the original request's route")
          .Register(registry);
  for (std::size_t i = 0; i < kShadowOf; ++i) {
    agreement[i] = &agreement_family.Add({{"route", std::string(kShadowOfRoutes[i])}}, buckets);
  }
  auto& verdict_family = prometheus::BuildCounter()
                             .Name("gateway_shadow_verdicts_total")
                             .Help(
                                 "Shadow comparisons by verdict (draft_worse: the draft's "
                                 "answer differed from the large model's), by the original "
                                 "request's route")
                             .Register(registry);
  for (std::size_t i = 0; i < policies::kShadowVerdicts; ++i) {
    for (std::size_t o = 0; o < kShadowOf; ++o) {
      verdicts[o][i] = &verdict_family.Add(
          {{"verdict", std::string(policies::to_string(static_cast<policies::ShadowVerdict>(i)))},
           {"route", std::string(kShadowOfRoutes[o])}});
    }
  }
  cost_usd = &prometheus::BuildCounter()
                  .Name("gateway_shadow_cost_usd_total")
                  .Help("USD spent on shadow calls (not in gateway_cost_usd_total or the baseline)")
                  .Register(registry)
                  .Add({});
}

}  // namespace gw
