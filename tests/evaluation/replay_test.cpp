#include "evaluation/replay.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "policies/logprob_summary.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

json outcome(const std::string& id, const std::string& prompt, const std::string& draft_text,
             double qd, double ql, json logprobs = nullptr) {
  return {{"schema", "hg.outcome/1"},
          {"id", id},
          {"prompt", prompt},
          {"arms",
           {{"draft",
             {{"status", 200},
              {"error", nullptr},
              {"text", draft_text},
              {"finish_reason", "stop"},
              {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 50}}},
              {"logprobs", logprobs},
              {"quality", {{"score", qd}}}}},
            {"escalate",
             {{"status", 200},
              {"text", "large"},
              {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 80}}},
              {"quality", {{"score", ql}}}}}}}};
}

RoutedRow row_of(const json& j) {
  std::string why;
  auto r = read_routed_row(j, why);
  EXPECT_TRUE(r) << why;
  return *r;
}

ReplayPolicy policy() {
  ReplayPolicy p;
  p.draft_price = {0.1, 0.4, 0};
  p.escalate_price = {0.5, 2.0, 0};
  return p;
}

TEST(LogprobsWithSummary, JudgeSeesTheSameStatistics) {
  for (std::uint64_t n : {1u, 2u, 9u, 10u, 11u, 20u, 57u}) {
    policies::LogprobSummary s;
    s.n = n;
    s.min = -5.0;
    s.p10 = n >= 11 ? -2.0 : -5.0;
    s.mean = -0.9;
    if (n == 1) s.min = s.p10 = s.mean;
    const auto v = logprobs_with_summary(s);
    ASSERT_EQ(v.size(), n);
    const auto back = policies::summarize_logprobs(v, std::nullopt);
    EXPECT_NEAR(*back.mean, *s.mean, 1e-12) << n;
    EXPECT_EQ(*back.min, *s.min) << n;
    EXPECT_EQ(*back.p10, *s.p10) << n;
  }
}

TEST(Replayer, CostsIncludeTheDraftOfAnEscalation) {
  ReplayPolicy p = policy();
  p.spec.after_draft.chars_under = 10;
  const Replayer replayer(p);
  const auto short_draft = replayer.decide(row_of(outcome("a", "q", "tiny", 0, 1)));
  EXPECT_TRUE(short_draft.escalate);
  EXPECT_EQ(short_draft.reason, policies::Reason::chars_under);
  const double draft = (100 * 0.1 + 50 * 0.4) / 1e6, large = (100 * 0.5 + 80 * 2.0) / 1e6;
  EXPECT_NEAR(short_draft.cost_usd, draft + large, 1e-15);
  EXPECT_EQ(short_draft.quality, 1.0);
  const auto long_draft = replayer.decide(row_of(outcome("b", "q", "long enough draft", 1, 1)));
  EXPECT_FALSE(long_draft.escalate);
  EXPECT_NEAR(long_draft.cost_usd, draft, 1e-15);
}

TEST(Replayer, StreamedEscalationPaysOnlyTheHeldPrefix) {
  ReplayPolicy p = policy();
  p.spec.after_draft.refusal = {"(?i)I don"};
  p.stream = true;
  p.hold_tokens = 10;
  const Replayer replayer(p);
  const auto d =
      replayer.decide(row_of(outcome("a", "q", "I don't know, and more text after it.", 0, 1)));
  ASSERT_TRUE(d.escalate);
  const double held = (100 * 0.1 + 10 * 0.4) / 1e6, large = (100 * 0.5 + 80 * 2.0) / 1e6;
  EXPECT_NEAR(d.cost_usd, held + large, 1e-15);
}

TEST(Replayer, AStreamShorterThanTheHoldIsJudgedWhole) {
  ReplayPolicy p = policy();
  p.spec.after_draft.chars_under = 10;  // complete drafts only
  p.stream = true;
  p.hold_tokens = 50;  // the draft has 50 completion tokens: it ends inside the hold
  EXPECT_TRUE(Replayer(p).decide(row_of(outcome("a", "q", "tiny", 0, 1))).escalate);
  p.hold_tokens = 49;  // judged on a prefix: chars_under cannot fire yet
  EXPECT_FALSE(Replayer(p).decide(row_of(outcome("a", "q", "tiny", 0, 1))).escalate);
}

TEST(Replayer, BeforeDraftSkipsTheDraftCost) {
  ReplayPolicy p = policy();
  p.spec.before_draft.prompt_chars_over = 3;
  const Replayer replayer(p);
  const auto d = replayer.decide(row_of(outcome("a", "long prompt", "draft text here", 1, 0)));
  EXPECT_TRUE(d.before_draft);
  EXPECT_NEAR(d.cost_usd, (100 * 0.5 + 80 * 2.0) / 1e6, 1e-15);
}

TEST(Replayer, LogprobRulesReadTheSummary) {
  ReplayPolicy p = policy();
  p.spec.after_draft.min_logprob_under = -4.0;
  const Replayer replayer(p);
  json lp = {{"n", 20}, {"mean", -0.5}, {"min", -4.0}, {"p10", -1.0}, {"first_margin", 0.5}};
  EXPECT_FALSE(replayer.decide(row_of(outcome("a", "q", "some draft", 1, 1, lp))).escalate);
  lp["min"] = -4.01;
  const auto d = replayer.decide(row_of(outcome("a", "q", "some draft", 1, 1, lp)));
  EXPECT_TRUE(d.escalate);
  EXPECT_EQ(d.reason, policies::Reason::min_logprob_under);
}

TEST(Replayer, StreamedReplayJudgesTheRecordedHeldPrefix) {
  // The whole draft looks confident; the 10 tokens the gateway held did not.
  json j = {{"schema", "hg.decision/1"},
            {"request_id", "r1"},
            {"stream", true},
            {"route", "escalated"},
            {"reason", "mean_logprob_under"},
            {"draft",
             {{"chars", 200},
              {"finish_reason", "stop"},
              {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 50}}},
              {"logprobs", {{"n", 50}, {"mean", -0.2}, {"min", -1.0}, {"p10", -0.5}}},
              {"hold", {{"n", 10}, {"mean", -2.0}, {"min", -3.0}, {"p10", -3.0}}}}},
            {"escalate", nullptr}};
  ReplayPolicy p = policy();
  p.spec.after_draft.mean_logprob_under = -1.5;
  p.stream = true;
  p.hold_tokens = 10;
  const auto d = Replayer(p).decide(row_of(j));
  EXPECT_TRUE(d.escalate);
  EXPECT_EQ(d.reason, policies::Reason::mean_logprob_under);
  // A non-streamed replay judges the whole draft, as the gateway would have.
  p.stream = false;
  EXPECT_FALSE(Replayer(p).decide(row_of(j)).escalate);
  // Another hold length was never recorded: the whole draft's summary stands in.
  p.stream = true;
  p.hold_tokens = 20;
  EXPECT_FALSE(Replayer(p).decide(row_of(j)).escalate);
}

TEST(Figures, BadAcceptsAndNeedlessEscalations) {
  ReplayPolicy p = policy();
  p.spec.after_draft.chars_under = 10;
  const Replayer replayer(p);
  std::vector<Decided> d;
  d.push_back(replayer.decide(row_of(outcome("1", "q", "tiny", 1, 1))));          // needless
  d.push_back(replayer.decide(row_of(outcome("2", "q", "a long draft", 0, 1))));  // bad accept
  d.push_back(replayer.decide(row_of(outcome("3", "q", "a long draft", 1, 1))));  // fine
  d.push_back(replayer.decide(row_of(outcome("4", "q", "tiny", 0, 1))));          // good escalation
  const Figures f = figures_of(d);
  EXPECT_EQ(f.n, 4);
  EXPECT_DOUBLE_EQ(f.escalation_rate, 0.5);
  EXPECT_DOUBLE_EQ(f.bad_accept_rate, 0.25);
  EXPECT_DOUBLE_EQ(f.needless_escalation_rate, 0.25);
  EXPECT_DOUBLE_EQ(f.quality, 0.75);
  EXPECT_DOUBLE_EQ(f.quality_draft, 0.5);
  EXPECT_DOUBLE_EQ(f.quality_escalate, 1.0);
  EXPECT_DOUBLE_EQ(f.gap_recovered, 0.5);
}

TEST(ReadRoutedRow, DecisionLogRow) {
  json j = {{"schema", "hg.decision/1"},
            {"request_id", "r1"},
            {"prompt_chars", 12},
            {"route", "draft"},
            {"reason", ""},
            {"draft",
             {{"chars", 40},
              {"finish_reason", "stop"},
              {"refusal_matched", true},
              {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 10}}}}},
            {"escalate", nullptr}};
  const RoutedRow r = row_of(j);
  EXPECT_EQ(r.id, "r1");
  EXPECT_EQ(r.draft_chars, 40u);
  EXPECT_FALSE(r.draft_text);
  ReplayPolicy p = policy();
  p.spec.after_draft.refusal = {"never matches text that is not recorded"};
  const auto d = Replayer(p).decide(r);
  EXPECT_TRUE(d.escalate);  // the gateway's own refusal match, as recorded
  EXPECT_EQ(d.reason, policies::Reason::refusal);
}

}  // namespace
}  // namespace gw::eval
