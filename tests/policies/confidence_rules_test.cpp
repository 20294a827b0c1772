// The confidence rules that read token logprobs beyond their mean: min_logprob_under,
// p10_logprob_under, first_margin_under. Every threshold is tested at its exact boundary
// (strictly under fires; equal does not).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "policies/judge.hpp"
#include "test_support.hpp"

namespace gw::policies {
namespace {

using testing::after_draft_rules;
using testing::esc;
using testing::kAccept;
using testing::kNaN;

struct ConfidenceRulesCase {
  const char* name;
  AfterDraftSpec spec;
  std::vector<double> logprobs;
  std::optional<double> first_margin;
  bool complete;
  Verdict expected;
};

class ConfidenceRules : public ::testing::TestWithParam<ConfidenceRulesCase> {};

TEST_P(ConfidenceRules, Decide) {
  const auto& c = GetParam();
  Draft d{"A draft long enough.", c.complete ? "stop" : "", c.logprobs, c.complete};
  d.first_margin = c.first_margin;
  EXPECT_EQ(judge(after_draft_rules(c.spec), d), c.expected);
}

AfterDraftSpec min_rule(double t) {
  AfterDraftSpec s;
  s.min_logprob_under = t;
  return s;
}
AfterDraftSpec p10_rule(double t) {
  AfterDraftSpec s;
  s.p10_logprob_under = t;
  return s;
}
AfterDraftSpec margin_rule(double t) {
  AfterDraftSpec s;
  s.first_margin_under = t;
  return s;
}
AfterDraftSpec all_confidence() {
  AfterDraftSpec s;
  s.mean_logprob_under = -1.0;
  s.min_logprob_under = -3.0;
  s.p10_logprob_under = -2.0;
  s.first_margin_under = 1.0;
  return s;
}

// 11 tokens: the nearest-rank p10 is the 2nd lowest (-2.0), the min -5.0, the mean -0.9.
const std::vector<double> kEleven{-0.1, -0.2, -5.0, -0.1, -0.1, -2.0, -0.1, -0.1, -0.1, -0.1, -2.1};
// 10 tokens: the p10 is the lowest.
const std::vector<double> kTen{-0.1, -0.2, -0.3, -0.1, -0.1, -1.5, -0.1, -0.1, -0.1, -0.1};

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ConfidenceRules,
    ::testing::Values(
        // min: strictly under.
        ConfidenceRulesCase{"min_equal_keeps", min_rule(-5.0), kEleven, {}, true, kAccept},
        ConfidenceRulesCase{"min_just_under_fires",
                            min_rule(-4.999),
                            kEleven,
                            {},
                            true,
                            esc(Reason::min_logprob_under)},
        ConfidenceRulesCase{"min_without_logprobs_keeps", min_rule(0.0), {}, {}, true, kAccept},
        ConfidenceRulesCase{"min_nan_keeps", min_rule(-1.0), {-0.1, kNaN, -3.0}, {}, true, kAccept},
        ConfidenceRulesCase{"min_on_prefix_fires",
                            min_rule(-1.0),
                            {-0.1, -1.5},
                            {},
                            false,
                            esc(Reason::min_logprob_under)},
        // p10 nearest rank: n = 11 -> rank 2 = -2.1 (sorted: -5.0, -2.1, -2.0, ...).
        ConfidenceRulesCase{
            "p10_n11_equal_second_lowest_keeps", p10_rule(-2.1), kEleven, {}, true, kAccept},
        ConfidenceRulesCase{"p10_n11_just_above_fires",
                            p10_rule(-2.0999),
                            kEleven,
                            {},
                            true,
                            esc(Reason::p10_logprob_under)},
        ConfidenceRulesCase{
            "p10_n11_min_does_not_count", p10_rule(-2.5), kEleven, {}, true, kAccept},
        // n = 10 -> rank 1 = the lowest, -1.5.
        ConfidenceRulesCase{"p10_n10_equal_lowest_keeps", p10_rule(-1.5), kTen, {}, true, kAccept},
        ConfidenceRulesCase{"p10_n10_just_above_fires",
                            p10_rule(-1.4999),
                            kTen,
                            {},
                            true,
                            esc(Reason::p10_logprob_under)},
        ConfidenceRulesCase{"p10_on_prefix_fires",
                            p10_rule(-1.0),
                            {-1.5},
                            {},
                            false,
                            esc(Reason::p10_logprob_under)},
        ConfidenceRulesCase{"p10_without_logprobs_keeps", p10_rule(0.0), {}, {}, true, kAccept},
        ConfidenceRulesCase{"p10_nan_keeps", p10_rule(-0.5), {kNaN, -3.0}, {}, true, kAccept},
        // first margin: strictly under; unknown margin never fires.
        ConfidenceRulesCase{"margin_equal_keeps", margin_rule(1.0), {-0.1}, 1.0, true, kAccept},
        ConfidenceRulesCase{"margin_under_fires",
                            margin_rule(1.0),
                            {-0.1},
                            0.999,
                            true,
                            esc(Reason::first_margin_under)},
        ConfidenceRulesCase{"margin_zero_tie_fires",
                            margin_rule(0.5),
                            {-0.7},
                            0.0,
                            true,
                            esc(Reason::first_margin_under)},
        ConfidenceRulesCase{
            "margin_unknown_keeps", margin_rule(100.0), {-0.1}, std::nullopt, true, kAccept},
        ConfidenceRulesCase{"margin_nan_keeps", margin_rule(1.0), {-0.1}, kNaN, true, kAccept},
        ConfidenceRulesCase{"margin_on_prefix_fires",
                            margin_rule(1.0),
                            {-0.1},
                            0.2,
                            false,
                            esc(Reason::first_margin_under)},
        // Order: mean, then min, then p10, then first margin.
        ConfidenceRulesCase{"order_mean_first",
                            all_confidence(),
                            {-4.0, -4.0},
                            0.1,
                            true,
                            esc(Reason::mean_logprob_under)},
        ConfidenceRulesCase{"order_min_before_p10", all_confidence(), kEleven, 0.1, true,
                            esc(Reason::min_logprob_under)},
        ConfidenceRulesCase{"order_p10_before_margin",
                            all_confidence(),
                            {-0.1, -2.5, -0.1, -0.1},
                            0.1,
                            true,
                            esc(Reason::p10_logprob_under)},
        ConfidenceRulesCase{"order_margin_last",
                            all_confidence(),
                            {-0.1, -0.1},
                            0.1,
                            true,
                            esc(Reason::first_margin_under)},
        ConfidenceRulesCase{"all_pass_keeps", all_confidence(), {-0.1, -0.1}, 1.0, true, kAccept}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfidenceRulesHold, MinAndP10KeepTheHoldOpen) {
  const std::vector<double> lp{-0.1};
  for (const auto& spec : {min_rule(-3.0), p10_rule(-3.0)}) {
    Draft prefix{"ok", "", lp, false};
    EXPECT_TRUE(can_still_escalate_later(after_draft_rules(spec), prefix));
  }
}

TEST(ConfidenceRulesHold, MarginHoldsOnlyUntilTheFirstToken) {
  const Rules rules = after_draft_rules(margin_rule(1.0));
  Draft before_first{"", "", {}, false};
  EXPECT_TRUE(can_still_escalate_later(rules, before_first));
  const std::vector<double> lp{-0.1};
  Draft after_first{"Hi", "", lp, false};
  after_first.first_margin = 2.0;
  EXPECT_FALSE(can_still_escalate_later(rules, after_first));
  Draft complete{"Hi", "stop", lp, true};
  EXPECT_FALSE(can_still_escalate_later(rules, complete));
}

TEST(ConfidenceRulesSpec, NeedsLogprobsAndTopLogprobs) {
  AfterDraftSpec none;
  EXPECT_FALSE(none.needs_logprobs());
  EXPECT_TRUE(min_rule(-1).needs_logprobs());
  EXPECT_TRUE(p10_rule(-1).needs_logprobs());
  EXPECT_FALSE(p10_rule(-1).needs_top_logprobs());
  EXPECT_TRUE(margin_rule(1).needs_logprobs());
  EXPECT_TRUE(margin_rule(1).needs_top_logprobs());
}

}  // namespace
}  // namespace gw::policies
