#pragma once
// Summaries of a draft's token log-probabilities, as the confidence rules read them. The same
// functions feed the judge, the decision log and offline replay, so a threshold tuned offline
// means the same thing in the request path.

#include <cstdint>
#include <optional>
#include <span>

namespace gw::policies {

// The percentile the p10 rule reads.
inline constexpr double kLowTokenPercentile = 10.0;

// Nearest-rank percentile: the smallest value v of `values` such that at least p% of the
// values are <= v, i.e. sorted[ceil(p/100 * n) - 1] (index 0 when that is below 0).
// Nearest-rank always returns an observed logprob (no interpolation), so a threshold placed
// between two observed values splits a replayed set exactly as the gateway would.
// Examples (n = 10, p = 10): the lowest value; n = 11: the 2nd lowest; n = 1..10: the lowest.
// nullopt for no values or a p outside [0, 100]; a NaN among the values gives NaN.
std::optional<double> nearest_rank_percentile(std::span<const double> values, double p);

// What the logprob rules read of one draft (or of a held prefix). Every field is nullopt when
// it cannot be computed (no logprobs; first_margin without top_logprobs).
struct LogprobSummary {
  std::uint64_t n = 0;                 // token logprobs seen
  std::optional<double> mean;          // arithmetic mean
  std::optional<double> min;           // lowest token logprob
  std::optional<double> p10;           // nearest_rank_percentile(values, 10)
  std::optional<double> first_margin;  // top-1 minus top-2 logprob of the first token
};

LogprobSummary summarize_logprobs(std::span<const double> logprobs,
                                  std::optional<double> first_margin);

}  // namespace gw::policies
