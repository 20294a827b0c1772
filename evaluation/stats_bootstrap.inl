#pragma once
// The bootstrap template of stats.hpp.

#include <algorithm>
#include <cmath>
#include <vector>

namespace gw::eval {

template <class Statistic>
Interval bootstrap_interval(std::size_t n, int resamples, std::uint64_t seed, Statistic statistic) {
  Interval out;
  if (n == 0 || resamples <= 0) return out;
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(resamples));
  std::vector<std::uint32_t> counts(n);
  std::uint64_t state = seed;
  for (int r = 0; r < resamples; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      state = mix64(state + 0x9e3779b97f4a7c15ull);
      ++counts[state % n];
    }
    values.push_back(statistic(counts));
  }
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    const auto idx =
        static_cast<std::size_t>(std::lround(q * static_cast<double>(values.size() - 1)));
    return values[std::min(idx, values.size() - 1)];
  };
  out.low = at(0.025);
  out.high = at(0.975);
  return out;
}

}  // namespace gw::eval
