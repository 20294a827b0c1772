#include "policies/logprob_summary.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace gw::policies {
namespace {

struct PercentileCase {
  const char* name;
  std::vector<double> values;
  double p;
  std::optional<double> expected;
};

class NearestRank : public ::testing::TestWithParam<PercentileCase> {};

TEST_P(NearestRank, PicksTheObservedValueAtRankCeilPN) {
  const auto& c = GetParam();
  EXPECT_EQ(nearest_rank_percentile(c.values, c.p), c.expected);
}

// Values given unsorted on purpose; -1 .. -n so the k-th lowest is -(n+1-k).
std::vector<double> descending(int n) {
  std::vector<double> v;
  // -1, -3, -5, ..., then -2, -4, ...: a permutation of -1 .. -n, not sorted.
  for (int i = 1; i <= n; i += 2) v.push_back(-static_cast<double>(i));
  for (int i = 2; i <= n; i += 2) v.push_back(-static_cast<double>(i));
  return v;
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, NearestRank,
    ::testing::Values(PercentileCase{"empty", {}, 10, std::nullopt},
                      PercentileCase{"p_below_range", {-1}, -0.5, std::nullopt},
                      PercentileCase{"p_above_range", {-1}, 100.5, std::nullopt},
                      PercentileCase{"one_value", {-3}, 10, -3},
                      // n <= 10: ceil(0.1 n) = 1, the lowest value.
                      PercentileCase{"n10_lowest", descending(10), 10, -10},
                      // n = 11: ceil(1.1) = 2, the second lowest.
                      PercentileCase{"n11_second_lowest", descending(11), 10, -10},
                      // n = 20: exactly 2.0, rank 2 (no floating-point drift up to rank 3).
                      PercentileCase{"n20_rank2", descending(20), 10, -19},
                      PercentileCase{"n21_rank3", descending(21), 10, -19},
                      PercentileCase{"p0_is_min", {-1, -5, -2}, 0, -5},
                      PercentileCase{"p100_is_max", {-1, -5, -2}, 100, -1},
                      PercentileCase{"p50_median_low", {-1, -2, -3, -4}, 50, -3},
                      PercentileCase{"ties", {-2, -2, -2, -1}, 10, -2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(NearestRank, NanGivesNan) {
  const std::vector<double> v{-1, std::numeric_limits<double>::quiet_NaN(), -2};
  auto p = nearest_rank_percentile(v, 10);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(std::isnan(*p));
}

TEST(LogprobSummary, EmptyHasNoStatistics) {
  auto s = summarize_logprobs({}, 1.5);
  EXPECT_EQ(s.n, 0u);
  EXPECT_FALSE(s.mean);
  EXPECT_FALSE(s.min);
  EXPECT_FALSE(s.p10);
  EXPECT_EQ(s.first_margin, 1.5);  // known from top_logprobs even without the list
}

TEST(LogprobSummary, MeanMinP10) {
  const std::vector<double> v{-0.5, -0.25, -4.0, -0.25};
  auto s = summarize_logprobs(v, std::nullopt);
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(*s.mean, -1.25);
  EXPECT_EQ(*s.min, -4.0);
  EXPECT_EQ(*s.p10, -4.0);
  EXPECT_FALSE(s.first_margin);
}

}  // namespace
}  // namespace gw::policies
