// rule_spec_of: every routing rule of the config reaches the RuleSpec the gateway and
// `eval replay` compile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/config/rule_spec.hpp"

namespace gw::config {
namespace {

using ::testing::ElementsAre;

TEST(RuleSpecOf, CarriesEveryRule) {
  Routing r;
  r.before_draft.prompt_chars_over = 9000;
  r.before_draft.match = {"(?i)prove"};
  r.after_draft.chars_under = 3;
  r.after_draft.chars_over = 7000;
  r.after_draft.finish_reason_length = false;
  r.after_draft.refusal = {"(?i)I cannot"};
  r.after_draft.has_mean_logprob_under = true;
  r.after_draft.mean_logprob_under = -1.5;
  r.after_draft.min_logprob_under = -6.0;
  r.after_draft.p10_logprob_under = -3.0;
  r.after_draft.first_margin_under = 0.25;
  r.after_draft.invalid_tool_call = true;
  r.after_draft.invalid_json = true;

  const policies::RuleSpec spec = rule_spec_of(r);
  EXPECT_EQ(spec.before_draft.prompt_chars_over, 9000u);
  EXPECT_THAT(spec.before_draft.match, ElementsAre("(?i)prove"));
  EXPECT_EQ(spec.after_draft.chars_under, 3u);
  EXPECT_EQ(spec.after_draft.chars_over, 7000u);
  EXPECT_FALSE(spec.after_draft.finish_reason_length);
  EXPECT_THAT(spec.after_draft.refusal, ElementsAre("(?i)I cannot"));
  EXPECT_EQ(spec.after_draft.mean_logprob_under, -1.5);
  EXPECT_EQ(spec.after_draft.min_logprob_under, -6.0);
  EXPECT_EQ(spec.after_draft.p10_logprob_under, -3.0);
  EXPECT_EQ(spec.after_draft.first_margin_under, 0.25);
  EXPECT_TRUE(spec.after_draft.invalid_tool_call);
  EXPECT_TRUE(spec.after_draft.invalid_json);
}

TEST(RuleSpecOf, UnsetMeanLogprobIsNoRule) {
  Routing r;
  r.after_draft.mean_logprob_under = -1.5;  // ignored: has_mean_logprob_under is false
  const policies::RuleSpec spec = rule_spec_of(r);
  EXPECT_FALSE(spec.after_draft.mean_logprob_under.has_value());
  EXPECT_TRUE(spec.after_draft.finish_reason_length);  // the config's default
  EXPECT_FALSE(spec.after_draft.needs_logprobs());
}

}  // namespace
}  // namespace gw::config
