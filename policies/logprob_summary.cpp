#include "policies/logprob_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gw::policies {

std::optional<double> nearest_rank_percentile(std::span<const double> values, double p) {
  if (values.empty() || !(p >= 0.0 && p <= 100.0)) return std::nullopt;
  for (double v : values) {
    if (std::isnan(v)) return v;  // no order to rank by; the rule then cannot fire
  }
  const auto n = values.size();
  // ceil(p/100 * n) computed as an integer where possible: p = 10 and n = 20 must give rank 2,
  // not 3 from 0.1 * 20 = 2.0000000000000004.
  const double exact = p * static_cast<double>(n) / 100.0;
  auto rank = static_cast<std::size_t>(std::ceil(exact - 1e-9));
  if (rank == 0) rank = 1;
  if (rank > n) rank = n;
  std::vector<double> sorted(values.begin(), values.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(rank - 1),
                   sorted.end());
  return sorted[rank - 1];
}

LogprobSummary summarize_logprobs(std::span<const double> logprobs,
                                  std::optional<double> first_margin) {
  LogprobSummary s;
  s.n = logprobs.size();
  s.first_margin = first_margin;
  if (logprobs.empty()) return s;
  s.mean =
      std::accumulate(logprobs.begin(), logprobs.end(), 0.0) / static_cast<double>(logprobs.size());
  double lowest = logprobs.front();
  for (double v : logprobs) {
    if (std::isnan(v) || v < lowest) lowest = v;
    if (std::isnan(lowest)) break;
  }
  s.min = lowest;
  s.p10 = nearest_rank_percentile(logprobs, kLowTokenPercentile);
  return s;
}

}  // namespace gw::policies
