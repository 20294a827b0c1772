#include "policies/judge.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace gw::policies {
namespace {

using testing::after_draft_rules;
using testing::esc;
using testing::kAccept;
using testing::kNaN;
using testing::kSpecRefusalDontKnow;
using testing::kSpecRefusalInsufficient;

constexpr bool kComplete = true;
constexpr bool kPrefix = false;

struct JudgeCase {
  const char* name;
  AfterDraftSpec spec;
  std::string text;
  std::string finish_reason;
  std::vector<double> logprobs;
  bool complete;
  Verdict expected;
};

class JudgeTest : public ::testing::TestWithParam<JudgeCase> {};

TEST_P(JudgeTest, Decides) {
  const auto& c = GetParam();
  const Draft draft{c.text, c.finish_reason, c.logprobs, c.complete};
  EXPECT_EQ(judge(after_draft_rules(c.spec), draft), c.expected);
}

AfterDraftSpec length_rule() {
  AfterDraftSpec s;
  s.finish_reason_length = true;
  return s;
}
AfterDraftSpec refusal_rule() {
  AfterDraftSpec s;
  s.refusal = {kSpecRefusalDontKnow, kSpecRefusalInsufficient};
  return s;
}
AfterDraftSpec logprob_rule(double threshold) {
  AfterDraftSpec s;
  s.mean_logprob_under = threshold;
  return s;
}
AfterDraftSpec under(std::uint64_t n) {
  AfterDraftSpec s;
  s.chars_under = n;
  return s;
}
AfterDraftSpec over(std::uint64_t n) {
  AfterDraftSpec s;
  s.chars_over = n;
  return s;
}
// Every rule on, each set to fire on the text used with it.
AfterDraftSpec all_rules() {
  AfterDraftSpec s = refusal_rule();
  s.finish_reason_length = true;
  s.mean_logprob_under = -1.5;
  s.chars_under = 100;  // a misconfiguration (under > over) lets both length rules fire
  s.chars_over = 5;
  return s;
}

const std::string kRefusal = "I don't know.";                   // 13 chars
const std::string kAnswer = "Paris is the capital of France.";  // 31 chars
const std::string kAccents = "h\xC3\xA9llo w\xC3\xB6rld";       // 11 chars, 13 bytes
std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
const std::string kCjk20 = repeat("\xE6\x97\xA5\xE6\x9C\xAC", 10);  // 20 chars, 60 bytes
const std::string kEmoji10 = repeat("\xF0\x9F\x98\x80", 10);        // 10 chars, 40 bytes
const double kInf = std::numeric_limits<double>::infinity();

INSTANTIATE_TEST_SUITE_P(
    NoRules, JudgeTest,
    ::testing::Values(
        JudgeCase{"anything_goes", {}, kRefusal, "length", {-9.0}, kComplete, kAccept},
        JudgeCase{"empty_complete", {}, "", "stop", {}, kComplete, kAccept},
        JudgeCase{"empty_prefix", {}, "", "", {}, kPrefix, kAccept}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    FinishReasonLength, JudgeTest,
    ::testing::Values(
        JudgeCase{"fires",
                  length_rule(),
                  kAnswer,
                  "length",
                  {},
                  kComplete,
                  esc(Reason::finish_reason_length)},
        JudgeCase{"stop", length_rule(), kAnswer, "stop", {}, kComplete, kAccept},
        JudgeCase{"empty_finish_reason", length_rule(), kAnswer, "", {}, kComplete, kAccept},
        JudgeCase{"exact_word_only", length_rule(), kAnswer, "Length", {}, kComplete, kAccept},
        JudgeCase{"rule_off", {}, kAnswer, "length", {}, kComplete, kAccept},
        JudgeCase{"not_on_prefix", length_rule(), kAnswer, "length", {}, kPrefix, kAccept}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Refusal, JudgeTest,
    ::testing::Values(
        JudgeCase{"fires",
                  refusal_rule(),
                  "Sorry, I don't know who won.",
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::refusal)},
        JudgeCase{"second_pattern",
                  refusal_rule(),
                  "There is insufficient context here.",
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::refusal)},
        JudgeCase{"answer", refusal_rule(), kAnswer, "stop", {}, kComplete, kAccept},
        JudgeCase{
            "on_prefix", refusal_rule(), "I do not know", "", {}, kPrefix, esc(Reason::refusal)},
        JudgeCase{"prefix_not_yet", refusal_rule(), "I do not", "", {}, kPrefix, kAccept},
        JudgeCase{"empty", refusal_rule(), "", "stop", {}, kComplete, kAccept},
        JudgeCase{"invalid_utf8_around",
                  refusal_rule(),
                  "\xFFI don't know\xC0",
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::refusal)}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    MeanLogprobUnder, JudgeTest,
    ::testing::Values(
        JudgeCase{"below",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-1.6},
                  kComplete,
                  esc(Reason::mean_logprob_under)},
        JudgeCase{"at_threshold", logprob_rule(-1.5), kAnswer, "stop", {-1.5}, kComplete, kAccept},
        JudgeCase{"above", logprob_rule(-1.5), kAnswer, "stop", {-1.4}, kComplete, kAccept},
        JudgeCase{"mean_at_threshold",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-1.0, -2.0},
                  kComplete,
                  kAccept},
        JudgeCase{"mean_below",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-0.1, -0.2, -4.5},
                  kComplete,
                  esc(Reason::mean_logprob_under)},
        JudgeCase{"mean_above_despite_one_low",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-0.1, -0.1, -4.0},
                  kComplete,
                  kAccept},
        JudgeCase{
            "no_logprobs_cannot_fire", logprob_rule(-1.5), kAnswer, "stop", {}, kComplete, kAccept},
        JudgeCase{"rule_off", {}, kAnswer, "stop", {-20.0}, kComplete, kAccept},
        JudgeCase{"on_prefix",
                  logprob_rule(-1.5),
                  "Par",
                  "",
                  {-3.0},
                  kPrefix,
                  esc(Reason::mean_logprob_under)},
        JudgeCase{"minus_infinity_fires",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-0.1, -kInf},
                  kComplete,
                  esc(Reason::mean_logprob_under)},
        // A NaN from a broken upstream makes the mean NaN, which is not < anything.
        JudgeCase{"nan_cannot_fire",
                  logprob_rule(-1.5),
                  kAnswer,
                  "stop",
                  {-9.0, kNaN},
                  kComplete,
                  kAccept}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    CharsUnder, JudgeTest,
    ::testing::Values(
        JudgeCase{"below",
                  under(20),
                  std::string(19, 'x'),
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::chars_under)},
        JudgeCase{"at_threshold", under(20), std::string(20, 'x'), "stop", {}, kComplete, kAccept},
        JudgeCase{"above", under(20), std::string(21, 'x'), "stop", {}, kComplete, kAccept},
        JudgeCase{"empty_fires", under(20), "", "stop", {}, kComplete, esc(Reason::chars_under)},
        JudgeCase{
            "empty_threshold_one", under(1), "", "stop", {}, kComplete, esc(Reason::chars_under)},
        JudgeCase{"off_at_zero", under(0), "", "stop", {}, kComplete, kAccept},
        JudgeCase{"not_on_prefix", under(20), "Short", "", {}, kPrefix, kAccept},
        JudgeCase{"not_on_empty_prefix", under(20), "", "", {}, kPrefix, kAccept},
        JudgeCase{
            "accents_below", under(12), kAccents, "stop", {}, kComplete, esc(Reason::chars_under)},
        JudgeCase{"accents_at", under(11), kAccents, "stop", {}, kComplete, kAccept},
        // 60 bytes but 20 characters.
        JudgeCase{"cjk_below", under(21), kCjk20, "stop", {}, kComplete, esc(Reason::chars_under)},
        JudgeCase{"cjk_at", under(20), kCjk20, "stop", {}, kComplete, kAccept},
        JudgeCase{"invalid_utf8_bytes",
                  under(3),
                  "\xFF\xFE",
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::chars_under)},
        JudgeCase{"invalid_utf8_bytes_at", under(2), "\xFF\xFE", "stop", {}, kComplete, kAccept}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    CharsOver, JudgeTest,
    ::testing::Values(
        JudgeCase{"below", over(10), std::string(9, 'x'), "stop", {}, kComplete, kAccept},
        JudgeCase{"at_threshold", over(10), std::string(10, 'x'), "stop", {}, kComplete, kAccept},
        JudgeCase{"above",
                  over(10),
                  std::string(11, 'x'),
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::chars_over)},
        JudgeCase{"off_at_zero", over(0), std::string(100000, 'x'), "stop", {}, kComplete, kAccept},
        JudgeCase{"empty", over(10), "", "stop", {}, kComplete, kAccept},
        JudgeCase{
            "on_prefix", over(10), std::string(11, 'x'), "", {}, kPrefix, esc(Reason::chars_over)},
        JudgeCase{"prefix_at_threshold", over(10), std::string(10, 'x'), "", {}, kPrefix, kAccept},
        // 40 bytes but 10 characters.
        JudgeCase{"emoji_at", over(10), kEmoji10, "stop", {}, kComplete, kAccept},
        JudgeCase{"emoji_above", over(9), kEmoji10, "stop", {}, kComplete, esc(Reason::chars_over)},
        JudgeCase{"cjk_at", over(20), kCjk20, "stop", {}, kComplete, kAccept},
        JudgeCase{
            "accents_above", over(10), kAccents, "stop", {}, kComplete, esc(Reason::chars_over)},
        JudgeCase{"invalid_utf8_bytes",
                  over(1),
                  "\xFF\xFE",
                  "stop",
                  {},
                  kComplete,
                  esc(Reason::chars_over)}),
    [](const auto& info) { return std::string(info.param.name); });

// The documented order: finish_reason_length, refusal, mean_logprob_under,
// chars_under, chars_over. Each case turns off the winner of the one before.
AfterDraftSpec without_length() {
  auto s = all_rules();
  s.finish_reason_length = false;
  return s;
}
AfterDraftSpec without_refusal() {
  auto s = without_length();
  s.refusal.clear();
  return s;
}
AfterDraftSpec without_logprob() {
  auto s = without_refusal();
  s.mean_logprob_under.reset();
  return s;
}
AfterDraftSpec without_under() {
  auto s = without_logprob();
  s.chars_under = 0;
  return s;
}
// For prefixes: finish_reason_length and chars_under stay on, to show they are skipped.
AfterDraftSpec all_but_refusal() {
  auto s = all_rules();
  s.refusal.clear();
  return s;
}
AfterDraftSpec all_but_refusal_and_logprob() {
  auto s = all_but_refusal();
  s.mean_logprob_under.reset();
  return s;
}
AfterDraftSpec length_and_over() {
  AfterDraftSpec s;
  s.finish_reason_length = true;
  s.chars_over = 20;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Order, JudgeTest,
    ::testing::Values(JudgeCase{"1_finish_reason_length",
                                all_rules(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kComplete,
                                esc(Reason::finish_reason_length)},
                      JudgeCase{"2_refusal",
                                without_length(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kComplete,
                                esc(Reason::refusal)},
                      JudgeCase{"3_mean_logprob_under",
                                without_refusal(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kComplete,
                                esc(Reason::mean_logprob_under)},
                      JudgeCase{"4_chars_under",
                                without_logprob(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kComplete,
                                esc(Reason::chars_under)},
                      JudgeCase{"5_chars_over",
                                without_under(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kComplete,
                                esc(Reason::chars_over)},
                      // The common real case: a truncated draft is also a long one.
                      JudgeCase{"truncated_long_draft",
                                length_and_over(),
                                std::string(500, 'x'),
                                "length",
                                {},
                                kComplete,
                                esc(Reason::finish_reason_length)},
                      // On a prefix finish_reason_length and chars_under are skipped.
                      JudgeCase{"prefix_refusal_first",
                                all_rules(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kPrefix,
                                esc(Reason::refusal)},
                      JudgeCase{"prefix_skips_length_for_logprob",
                                all_but_refusal(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kPrefix,
                                esc(Reason::mean_logprob_under)},
                      JudgeCase{"prefix_skips_chars_under",
                                all_but_refusal_and_logprob(),
                                kRefusal,
                                "length",
                                {-3.0},
                                kPrefix,
                                esc(Reason::chars_over)}),
    [](const auto& info) { return std::string(info.param.name); });

// can_still_escalate_later: may the hold be released before hold_tokens?
struct LaterCase {
  const char* name;
  AfterDraftSpec spec;
  std::string text;
  bool complete;
  bool expected;
};

class CanStillEscalateLater : public ::testing::TestWithParam<LaterCase> {};

TEST_P(CanStillEscalateLater, Answers) {
  const auto& c = GetParam();
  const Draft draft{c.text, "", {}, c.complete};
  EXPECT_EQ(can_still_escalate_later(after_draft_rules(c.spec), draft), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CanStillEscalateLater,
    ::testing::Values(
        LaterCase{"no_rules", {}, "abc", kPrefix, false},
        LaterCase{"complete_draft", all_rules(), "abc", kComplete, false},
        LaterCase{"refusal_patterns", refusal_rule(), "abc", kPrefix, true},
        LaterCase{"finish_reason_length", length_rule(), "abc", kPrefix, true},
        LaterCase{"mean_logprob_under", logprob_rule(-1.5), "abc", kPrefix, true},
        LaterCase{"chars_over", over(10), "abc", kPrefix, true},
        LaterCase{"chars_under_not_reached", under(20), std::string(19, 'x'), kPrefix, true},
        LaterCase{"chars_under_reached", under(20), std::string(20, 'x'), kPrefix, false}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gw::policies
