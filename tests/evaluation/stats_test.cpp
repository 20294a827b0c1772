#include "evaluation/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace gw::eval {
namespace {

TEST(QuantileCuts, ObservedValuesPlusOneAboveTheTop) {
  const auto cuts = quantile_cuts({5, 1, 3, 2, 4, 6, 8, 7, 9, 10}, 2);
  ASSERT_EQ(cuts.size(), 3u);
  EXPECT_EQ(cuts[0], 1);   // min
  EXPECT_EQ(cuts[1], 5);   // nearest-rank median of 10: rank 5
  EXPECT_GT(cuts[2], 10);  // above the max: an "under" rule then fires on every row
  EXPECT_TRUE(quantile_cuts({}, 4).empty());
  EXPECT_EQ(quantile_cuts({2, 2, 2}, 4).size(), 2u);  // duplicates collapse
}

TEST(NormalQuantile, KnownValues) {
  EXPECT_NEAR(normal_quantile(0.95), 1.6448536, 1e-6);
  EXPECT_NEAR(normal_quantile(0.975), 1.9599640, 1e-6);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.01), -2.3263479, 1e-6);
}

TEST(WilsonUpper, HandComputed) {
  // p = 0.1, n = 100, z = 1.6449: (0.1 + z^2/200 + z*sqrt(0.0009 + z^2/40000)) / (1 + z^2/100)
  const double z = 1.6448536269514722;
  const double expected =
      (0.1 + z * z / 200 + z * std::sqrt(0.1 * 0.9 / 100 + z * z / 40000)) / (1 + z * z / 100);
  EXPECT_NEAR(wilson_upper(10, 100), expected, 1e-9);
  EXPECT_EQ(wilson_upper(0, 0), 1.0);
  EXPECT_GT(wilson_upper(0, 50), 0.0);  // zero successes still bound above zero
  EXPECT_LE(wilson_upper(50, 50), 1.0);
}

// The one-sided bound covers the true rate at (about) its stated level: 2,000 seeded
// binomial samples per rate; coverage must be at least 93% for a 95% bound.
TEST(WilsonUpper, CoversTheTrueRate) {
  for (double p : {0.02, 0.05, 0.1, 0.3}) {
    for (std::uint64_t n : {100u, 400u}) {
      int covered = 0;
      constexpr int kTrials = 2000;
      std::uint64_t state = 12345 + n;
      for (int t = 0; t < kTrials; ++t) {
        std::uint64_t k = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
          state = mix64(state);
          if (static_cast<double>(state >> 11) * 0x1.0p-53 < p) ++k;
        }
        if (wilson_upper(k, n) >= p) ++covered;
      }
      EXPECT_GE(covered, kTrials * 93 / 100) << "p=" << p << " n=" << n;
    }
  }
}

TEST(Trapz, MatchesNumpy) {
  EXPECT_DOUBLE_EQ(trapz({1, 2, 3}, {0, 1, 2}), 4.0);
  EXPECT_DOUBLE_EQ(trapz({1, 1}, {0.2, 0.7}), 0.5);
}

TEST(NpInterp, MatchesNumpy) {
  const std::vector<double> xp{1, 2, 3}, fp{10, 20, 40};
  EXPECT_EQ(np_interp(0, xp, fp), 10);    // below: first
  EXPECT_EQ(np_interp(5, xp, fp), 40);    // above: last
  EXPECT_EQ(np_interp(2.5, xp, fp), 30);  // linear
  EXPECT_EQ(np_interp(3, xp, fp), 40);
  EXPECT_EQ(np_interp(2, xp, fp), 20);
}

TEST(RouteLlmFigures, StraightLineIsHalf) {
  // A random router: quality linear in the strong share -> APGR 0.5, CPT(50%) = 50.
  std::vector<CurvePoint> pts;
  for (int i = 0; i <= 10; ++i) pts.push_back({i * 10.0, 0.6 + 0.3 * i / 10.0});
  const auto f = routellm_figures(pts, 0.6, 0.9);
  EXPECT_NEAR(f.apgr, 0.5, 1e-12);
  EXPECT_NEAR(f.cpt50, 50, 1e-9);
  EXPECT_NEAR(f.cpt80, 80, 1e-9);
}

TEST(RouteLlmFigures, HandComputedCurve) {
  // Points (0, 0.5), (20, 0.8), (100, 1.0), given unsorted. AUC = 0.2*(0.65) + 0.8*(0.9) = 0.85;
  // APGR = (0.85 - 0.5) / (1.0 - 0.5) = 0.7. CPT(50%): quality 0.75 -> 0 + (0.25/0.3)*20.
  const auto f = routellm_figures({{100, 1.0}, {0, 0.5}, {20, 0.8}}, 0.5, 1.0);
  EXPECT_NEAR(f.apgr, 0.7, 1e-12);
  EXPECT_NEAR(f.cpt50, 20.0 * 0.25 / 0.3, 1e-9);
  EXPECT_NEAR(f.cpt80, 20 + 80 * (0.9 - 0.8) / 0.2, 1e-9);
}

TEST(Bootstrap, IntervalContainsTheMeanAndIsSeeded) {
  std::vector<double> v;
  v.reserve(200);
  for (int i = 0; i < 200; ++i) v.push_back(i % 2);
  const auto mean = [&](const std::vector<std::uint32_t>& w) {
    double s = 0, n = 0;
    for (std::size_t i = 0; i < v.size(); ++i) s += w[i] * v[i], n += w[i];
    return s / n;
  };
  const auto a = bootstrap_interval(v.size(), 500, 7, mean);
  const auto b = bootstrap_interval(v.size(), 500, 7, mean);
  EXPECT_EQ(a.low, b.low);
  EXPECT_LT(a.low, 0.5);
  EXPECT_GT(a.high, 0.5);
  EXPECT_GT(a.low, 0.38);  // sd of the mean = 0.035: the interval is about +-0.07
  EXPECT_LT(a.high, 0.62);
}

TEST(HashId, StableAndSeeded) {
  EXPECT_EQ(hash_id("gsm8k-0001", 1), hash_id("gsm8k-0001", 1));
  EXPECT_NE(hash_id("gsm8k-0001", 1), hash_id("gsm8k-0001", 2));
}

}  // namespace
}  // namespace gw::eval
