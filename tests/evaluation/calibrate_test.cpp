// calibrate() on synth sets with a known answer: the threshold it picks against the analytic
// optimum, monotone curves, and the coverage of its bad-accept bound over many seeds.
#include "evaluation/calibrate.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <cmath>

#include "evaluation/synth.hpp"

namespace gw::eval {
namespace {

double Phi(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

std::vector<RoutedRow> rows_of(const std::vector<nlohmann::json>& rows) {
  std::vector<RoutedRow> out;
  for (const auto& j : rows) {
    std::string why;
    auto r = read_routed_row(j, why);
    EXPECT_TRUE(r) << why;
    out.push_back(*r);
  }
  return out;
}

SynthOptions one_signal(std::size_t n, std::uint64_t seed, double auroc) {
  SynthOptions o;
  o.n = n;
  o.seed = seed;
  o.auroc = {{"mean_logprob", auroc}};
  o.refusal_when_right = o.refusal_when_wrong = 0;
  return o;
}

ReplayPolicy mean_rule_policy() {
  ReplayPolicy p;
  p.spec.after_draft.mean_logprob_under = -0.3;  // on: calibrate grids it
  p.draft_price = {0.1, 0.4, 0};
  p.escalate_price = {0.5, 2.0, 0};
  return p;
}

double chosen_threshold(const CalibrationResult& r) {
  EXPECT_TRUE(r.chosen.has_value());
  for (const auto& [knob, v] : r.settings[*r.chosen].setting.knobs) {
    if (knob == Knob::mean_logprob_under && v) return *v;
  }
  return 0;  // off
}

// Bisection for an increasing function.
template <class F>
double solve(F f, double target, double lo = -8, double hi = 8) {
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (f(mid) < target ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

TEST(Calibrate, RecoversTheThresholdForAnEscalationTarget) {
  const SynthOptions s = one_signal(20000, 11, 0.8);
  CalibrateOptions o;
  o.cuts = 64;
  o.resamples = 0;
  o.target = {Target::Kind::escalation, 0.3};
  const auto r = calibrate(rows_of(synthesize(s)), mean_rule_policy(), o);
  // Escalate when z < t: P = P(right) Phi(t) + P(wrong) Phi(t + delta).
  const double delta = separation_for_auroc(0.8);
  const double right = s.p11 + s.p10, wrong = s.p01 + s.p00;
  const double t_star =
      solve([&](double t) { return right * Phi(t) + wrong * Phi(t + delta); }, 0.3);
  const double t = z_from_signal("mean_logprob", chosen_threshold(r));
  EXPECT_NEAR(t, t_star, 0.1) << "chosen z " << t << ", optimum " << t_star;
  EXPECT_LE(r.settings[*r.chosen].train.escalation_rate, 0.3);
}

TEST(Calibrate, RecoversTheThresholdForAQualityTarget) {
  const SynthOptions s = one_signal(20000, 12, 0.85);
  CalibrateOptions o;
  o.cuts = 64;
  o.resamples = 0;
  o.target = {Target::Kind::quality, 0.95};
  const auto r = calibrate(rows_of(synthesize(s)), mean_rule_policy(), o);
  // quality(t) = P(small right) + p01 Phi(t + delta) - p10 Phi(t); the cheapest setting is the
  // smallest t reaching 0.95 of the large model's quality.
  const double delta = separation_for_auroc(0.85);
  const double target = 0.95 * (s.p11 + s.p01);
  const double t_star = solve(
      [&](double t) { return s.p11 + s.p10 + s.p01 * Phi(t + delta) - s.p10 * Phi(t); }, target);
  const double t = z_from_signal("mean_logprob", chosen_threshold(r));
  EXPECT_NEAR(t, t_star, 0.15) << "chosen z " << t << ", optimum " << t_star;
}

TEST(Calibrate, CurvesAreMonotone) {
  CalibrateOptions o;
  o.cuts = 16;
  o.resamples = 0;
  const auto r = calibrate(rows_of(synthesize(one_signal(3000, 13, 0.75))), mean_rule_policy(), o);
  // One knob: settings in cut order (off first). A higher "under" threshold escalates a
  // superset of requests, so escalation and cost never fall.
  std::vector<std::pair<double, Figures>> by_threshold;
  for (const auto& s : r.settings) {
    const auto& v = s.setting.knobs.at(0).second;
    by_threshold.emplace_back(v ? *v : -1e300, s.train);
  }
  std::sort(by_threshold.begin(), by_threshold.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < by_threshold.size(); ++i) {
    EXPECT_GE(by_threshold[i].second.escalation_rate, by_threshold[i - 1].second.escalation_rate);
    EXPECT_GE(by_threshold[i].second.cost_per_1k_usd, by_threshold[i - 1].second.cost_per_1k_usd);
    EXPECT_LE(by_threshold[i].second.bad_accept_rate, by_threshold[i - 1].second.bad_accept_rate);
  }
  ASSERT_EQ(r.curves.size(), 1u);
  EXPECT_GT(r.curves[0].by_escalation.apgr, 0.5);  // an informative signal beats random
  // The frontier is not empty and holds the cheapest setting.
  EXPECT_TRUE(std::any_of(r.settings.begin(), r.settings.end(),
                          [](const SettingResult& s) { return s.pareto; }));
}

TEST(Calibrate, StreamedGridCoversHoldTokens) {
  ReplayPolicy p = mean_rule_policy();
  p.stream = true;
  CalibrateOptions o;
  o.cuts = 4;
  o.resamples = 0;
  o.hold_tokens = {8, 64};
  o.target = {Target::Kind::escalation, 0.5};
  const auto r = calibrate(rows_of(synthesize(one_signal(400, 5, 0.8))), p, o);
  std::size_t with8 = 0, with64 = 0;
  for (const auto& s : r.settings) (s.setting.hold_tokens == 8 ? with8 : with64)++;
  EXPECT_EQ(with8, with64);
  EXPECT_GT(with8, 1u);
  // Same rules, shorter hold: an escalated stream pays for fewer draft tokens.
  for (std::size_t i = 0; i + 1 < r.settings.size(); i += 2) {
    const auto& a = r.settings[i];
    const auto& b = r.settings[i + 1];
    ASSERT_EQ(a.setting.hold_tokens, 8u);
    ASSERT_EQ(b.setting.hold_tokens, 64u);
    EXPECT_LE(a.train.cost_per_1k_usd, b.train.cost_per_1k_usd + 1e-12);
  }
}

TEST(Calibrate, BadAcceptBoundCoversTheTrueRate) {
  // 150 seeds; the true bad-accept rate of the chosen threshold is known analytically:
  // P(small wrong, large right, z >= t) = p01 (1 - Phi(t + delta)).
  const double delta = separation_for_auroc(0.75);
  int covered = 0, trials = 0;
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    const SynthOptions s = one_signal(600, seed, 0.75);
    CalibrateOptions o;
    o.cuts = 16;
    o.resamples = 0;
    o.seed = seed;
    o.target = {Target::Kind::escalation, 0.2};
    const auto r = calibrate(rows_of(synthesize(s)), mean_rule_policy(), o);
    if (!r.chosen) continue;
    const auto& knob = r.settings[*r.chosen].setting.knobs.at(0).second;
    const double t =
        knob ? z_from_signal("mean_logprob", *knob) : -std::numeric_limits<double>::infinity();
    const double truth = s.p01 * (1 - Phi(t + delta));
    ++trials;
    if (r.bad_accept_upper >= truth) ++covered;
  }
  ASSERT_GE(trials, 140);
  // A one-sided 95% bound: coverage near 95%; 3 binomial standard deviations of slack.
  EXPECT_GE(static_cast<double>(covered) / trials, 0.90) << covered << "/" << trials;
}

TEST(Synth, HitsTheTableAndTheAuroc) {
  SynthOptions s = one_signal(40000, 21, 0.8);
  const auto rows = synthesize(s);
  double small_ok = 0, both = 0;
  std::vector<double> right, wrong;
  for (const auto& j : rows) {
    const bool sm = j["truth"]["small_correct"], lg = j["truth"]["large_correct"];
    small_ok += sm;
    both += sm && lg;
    (sm ? right : wrong).push_back(j["arms"]["draft"]["logprobs"]["mean"].get<double>());
  }
  EXPECT_NEAR(small_ok / rows.size(), s.p11 + s.p10, 0.01);
  EXPECT_NEAR(both / rows.size(), s.p11, 0.01);
  // AUROC by pairs (sampled): P(mean of a right draft > mean of a wrong one).
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < 200000; ++i) {
    wins += right[(i * 7919) % right.size()] > wrong[(i * 104729) % wrong.size()];
    ++pairs;
  }
  EXPECT_NEAR(wins / pairs, 0.8, 0.02);
  // Seeded: the same seed gives the same rows.
  EXPECT_EQ(synthesize(one_signal(5, 3, 0.8)), synthesize(one_signal(5, 3, 0.8)));
}

}  // namespace
}  // namespace gw::eval
