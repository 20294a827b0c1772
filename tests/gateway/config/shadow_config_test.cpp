// routing.shadow: defaults, values read, and each bad value reported at its FILE:LINE:COL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"
#include "gateway/config/load.hpp"

namespace gw::config {
namespace {

using ::testing::ElementsAre;
using testing::fake_env;
using testing::kModels;

std::vector<std::string> problems_of(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& p : load_string(yaml + kModels, "t.yaml", fake_env()).problems) {
    out.push_back(p.str());
  }
  return out;
}

TEST(ShadowConfig, OffByDefault) {
  auto result = load_string(kModels, "t.yaml", fake_env());
  ASSERT_TRUE(result.config);
  const Shadow& s = result.config->routing.shadow;
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(s.max_inflight, 2u);
  EXPECT_DOUBLE_EQ(s.budget_usd_per_hour, 0.5);
  EXPECT_TRUE(s.compare_numeric);
  EXPECT_TRUE(s.compare_token_f1);
}

TEST(ShadowConfig, ReadsEveryKey) {
  auto result = load_string(std::string(R"(routing:
  shadow:
    sample_rate: 0.05
    pre_draft_sample_rate: 0.25
    max_inflight: 0
    budget_usd_per_hour: 0
    compare: [token_f1]
    judge_sample_rate: 1
    seed: 7
)") + kModels,
                            "t.yaml", fake_env());
  ASSERT_TRUE(result.config);
  const Shadow& s = result.config->routing.shadow;
  EXPECT_TRUE(s.enabled());
  EXPECT_DOUBLE_EQ(s.sample_rate, 0.05);
  EXPECT_DOUBLE_EQ(s.pre_draft_sample_rate, 0.25);
  EXPECT_EQ(s.max_inflight, 0u);
  EXPECT_DOUBLE_EQ(s.budget_usd_per_hour, 0);
  EXPECT_FALSE(s.compare_numeric);
  EXPECT_TRUE(s.compare_token_f1);
  EXPECT_DOUBLE_EQ(s.judge_sample_rate, 1);
  EXPECT_EQ(s.seed, 7u);
}

TEST(ShadowConfig, ReportsBadValuesWhereTheyAre) {
  EXPECT_THAT(
      problems_of(R"(routing:
  shadow:
    sample_rate: 1.5
    pre_draft_sample_rate: -0.1
    max_inflight: 5000
    budget_usd_per_hour: -1
    compare: [numeric, bleu]
    judge_sample_rate: x
    sampel_rate: 0.1
)"),
      ElementsAre("t.yaml:3:18: routing.shadow.sample_rate: must be between 0 and 1, got 1.5",
                  "t.yaml:4:28: routing.shadow.pre_draft_sample_rate: must be between 0 "
                  "and 1, got -0.1",
                  "t.yaml:5:19: routing.shadow.max_inflight: must be between 0 and 1024, "
                  "got 5000",
                  "t.yaml:6:26: routing.shadow.budget_usd_per_hour: must not be negative, "
                  "got -1",
                  "t.yaml:7:24: routing.shadow.compare[1]: expected 'numeric' or "
                  "'token_f1', got 'bleu'",
                  "t.yaml:8:24: routing.shadow.judge_sample_rate: expected a number, got "
                  "'x'",
                  "t.yaml:9:5: unknown key 'sampel_rate' in routing.shadow (did you mean "
                  "'sample_rate'?)"));
}

}  // namespace
}  // namespace gw::config
