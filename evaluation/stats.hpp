#pragma once
// The statistics behind `eval calibrate`: quantile cut points, bootstrap intervals, the
// one-sided bound on a rate, and RouteLLM's curve figures (APGR, CPT). Pure functions.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gw::eval {

// Distinct cut points at the k/(cuts) quantiles (k = 1 .. cuts-1) of `values`, plus the
// minimum and a point above the maximum, sorted and deduplicated. Nearest-rank quantiles, so
// every cut point but the last is an observed value.
std::vector<double> quantile_cuts(std::vector<double> values, int cuts);

// Wilson score upper bound of a binomial rate, one-sided at `confidence` (0.95: z = 1.6449).
// Wilson rather than Clopper-Pearson: closed form, and its one-sided coverage is close to
// nominal for n >= 30 (tested by simulation in tests/evaluation). 1 when n == 0.
double wilson_upper(std::uint64_t successes, std::uint64_t n, double confidence = 0.95);

// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
double normal_quantile(double p);

// Trapezoid rule over (x, y) points as given (numpy.trapz).
double trapz(const std::vector<double>& y, const std::vector<double>& x);

// numpy.interp(x, xp, fp) for increasing xp: fp[0] below xp[0], fp[-1] above xp[-1],
// linear in between (xp equal to x picks the last such point, as numpy's search does).
double np_interp(double x, const std::vector<double>& xp, const std::vector<double>& fp);

// One point of a routing curve: the share of requests sent to the strong (escalation)
// model in percent, and the quality then.
struct CurvePoint {
  double strong_percent = 0;
  double quality = 0;
};

// RouteLLM's figures (routellm/evals/evaluate.py), computed the way it computes them:
// points sorted by strong_percent; AUC = trapz(quality, strong_percent/100); APGR = (AUC -
// weak*span) / (strong*span - weak*span) with span = the x range of the points; CPT(p) =
// interp(weak + p*(strong-weak), qualities, strong_percents) in percent.
struct RouteLlmFigures {
  double apgr = 0;
  double cpt50 = 0;
  double cpt80 = 0;
};
RouteLlmFigures routellm_figures(std::vector<CurvePoint> points, double weak_quality,
                                 double strong_quality);

// Deterministic 64-bit mix (splitmix64): seeded streams and the split hash.
std::uint64_t mix64(std::uint64_t x);
// FNV-1a of a string, then mixed with the seed: stable across runs and platforms.
std::uint64_t hash_id(std::string_view id, std::uint64_t seed);

// Percentile bootstrap 95% interval of `statistic` over `n` items resampled with replacement
// (`resamples` times, seeded). `statistic` gets the multiplicity of each item.
struct Interval {
  double low = 0;
  double high = 0;
};
template <class Statistic>
Interval bootstrap_interval(std::size_t n, int resamples, std::uint64_t seed, Statistic statistic);

}  // namespace gw::eval

#include "evaluation/stats_bootstrap.inl"
