// Which requests are shadowed (seeded hash of the request id) and the rolling hour of spend.
#include "gateway/shadow/sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace gw::shadow {
namespace {

TEST(SamplePoint, IsTheValueTheIntegrationTestMirrors) {
  // tests/integration/test_shadow.py computes the same points in Python; pinned here so a
  // change to either side is caught by the fast test.
  EXPECT_DOUBLE_EQ(sample_point(7, "shadow-sample-0"), 0.18916770170388975);
  EXPECT_DOUBLE_EQ(sample_point(0, ""), 0.5048676404714686);
  EXPECT_DOUBLE_EQ(sample_point(42, "abc"), 0.8147423938673788);
}

TEST(SamplePoint, SeedChangesTheSample) {
  EXPECT_NE(sample_point(1, "req-1"), sample_point(2, "req-1"));
  EXPECT_EQ(sample_point(1, "req-1"), sample_point(1, "req-1"));
}

TEST(Sampled, HonoursTheRateOverManyIds) {
  constexpr int kIds = 20000;
  for (double rate : {0.0, 0.02, 0.3, 1.0}) {
    int hits = 0;
    for (int i = 0; i < kIds; ++i) {
      const double p = sample_point(5, "id-" + std::to_string(i));
      ASSERT_GE(p, 0.0);
      ASSERT_LT(p, 1.0);
      hits += sampled(rate, 5, "id-" + std::to_string(i)) ? 1 : 0;
    }
    // Within 5 standard deviations of the binomial mean (exact at 0 and 1).
    const double sd = std::sqrt(kIds * rate * (1 - rate));
    EXPECT_NEAR(hits, kIds * rate, 5 * sd + 1e-9) << rate;
  }
}

TEST(SpendWindow, CountsTheLastHourOnly) {
  using std::chrono::minutes;
  SpendWindow w;
  const SpendWindow::Clock::time_point t0{minutes(1000)};
  EXPECT_DOUBLE_EQ(w.spent(t0), 0);
  w.add(0.25, t0);
  w.add(0.25, t0 + std::chrono::seconds(30));
  w.add(0.5, t0 + minutes(30));
  EXPECT_DOUBLE_EQ(w.spent(t0 + minutes(30)), 1.0);
  EXPECT_DOUBLE_EQ(w.spent(t0 + minutes(59)), 1.0);
  EXPECT_DOUBLE_EQ(w.spent(t0 + minutes(60)), 0.5);  // t0's minute is an hour old
  EXPECT_DOUBLE_EQ(w.spent(t0 + minutes(95)), 0);
  // The bucket t0 used is reused an hour later, starting from zero.
  w.add(0.1, t0 + minutes(60));
  EXPECT_DOUBLE_EQ(w.spent(t0 + minutes(60)), 0.6);
}

}  // namespace
}  // namespace gw::shadow
