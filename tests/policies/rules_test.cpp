#include "policies/rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "test_support.hpp"

namespace gw::policies {
namespace {

using testing::compiled;
using testing::kSpecMatch;
using testing::kSpecRefusalDontKnow;
using testing::kSpecRefusalInsufficient;

std::vector<RuleError> errors_of(RuleSpec spec) {
  auto result = Rules::compile(std::move(spec));
  auto* errors = std::get_if<std::vector<RuleError>>(&result);
  return errors ? *errors : std::vector<RuleError>{};
}

TEST(RulesCompile, DefaultSpecHasEveryRuleOff) {
  const Rules rules = compiled({});
  EXPECT_EQ(rules.before_draft().prompt_chars_over, 0u);
  EXPECT_FALSE(rules.after_draft().finish_reason_length);
  EXPECT_FALSE(rules.after_draft().mean_logprob_under.has_value());
  EXPECT_EQ(rules.first_match("anything"), std::nullopt);
  EXPECT_EQ(rules.first_refusal("I don't know"), std::nullopt);
}

TEST(RulesCompile, SpecExamplePatternsCompile) {
  RuleSpec spec;
  spec.before_draft.match = {kSpecMatch};
  spec.after_draft.refusal = {kSpecRefusalDontKnow, kSpecRefusalInsufficient};
  EXPECT_TRUE(std::holds_alternative<Rules>(Rules::compile(spec)));
}

TEST(RulesCompile, KeepsTheSpec) {
  RuleSpec spec;
  spec.before_draft.prompt_chars_over = 8000;
  spec.after_draft.chars_under = 20;
  spec.after_draft.mean_logprob_under = -1.5;
  const Rules rules = compiled(spec);
  EXPECT_EQ(rules.before_draft().prompt_chars_over, 8000u);
  EXPECT_EQ(rules.after_draft().chars_under, 20u);
  EXPECT_EQ(rules.after_draft().mean_logprob_under, -1.5);
}

TEST(RulesCompile, ReportsEveryBadPatternWithListAndIndex) {
  RuleSpec spec;
  spec.before_draft.match = {"fine", "(abc", "[z-a]"};
  spec.after_draft.refusal = {"(?P<x", "also fine"};
  const auto errors = errors_of(spec);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].list, PatternList::match);
  EXPECT_EQ(errors[0].index, 1u);
  EXPECT_EQ(errors[0].pattern, "(abc");
  EXPECT_EQ(errors[0].message, "missing ): (abc");
  EXPECT_EQ(errors[0].describe(), "before_draft.match[1]: missing ): (abc");
  EXPECT_EQ(errors[1].list, PatternList::match);
  EXPECT_EQ(errors[1].index, 2u);
  EXPECT_FALSE(errors[1].message.empty());
  EXPECT_EQ(errors[2].list, PatternList::refusal);
  EXPECT_EQ(errors[2].index, 0u);
  EXPECT_EQ(errors[2].describe().rfind("after_draft.refusal[0]: ", 0), 0u);
}

struct PatternCase {
  const char* name;
  std::string pattern;
  bool valid;
};

class RegexErrorTest : public ::testing::TestWithParam<PatternCase> {};

TEST_P(RegexErrorTest, AgreesWithCompile) {
  const auto& c = GetParam();
  const auto error = regex_error(c.pattern);
  EXPECT_EQ(!error.has_value(), c.valid) << error.value_or("");
  RuleSpec spec;
  spec.after_draft.refusal = {c.pattern};
  const auto errors = errors_of(spec);
  EXPECT_EQ(errors.empty(), c.valid);
  if (error && !errors.empty()) {
    EXPECT_EQ(*error, errors[0].message);
  }
}

// RE2 is not PCRE: lookaround and backreferences are rejected at load, not at match time.
INSTANTIATE_TEST_SUITE_P(
    Table, RegexErrorTest,
    ::testing::Values(
        PatternCase{"spec_match", kSpecMatch, true},
        PatternCase{"spec_dont_know", kSpecRefusalDontKnow, true},
        PatternCase{"spec_insufficient", kSpecRefusalInsufficient, true},
        PatternCase{"empty", "", true}, PatternCase{"unicode_class", "\\p{Han}+", true},
        PatternCase{"unclosed_group", "(abc", false}, PatternCase{"unclosed_class", "[abc", false},
        PatternCase{"reversed_range", "[z-a]", false}, PatternCase{"dangling_star", "*abc", false},
        PatternCase{"lookahead", "foo(?=bar)", false},
        PatternCase{"backreference", "(a)\\1", false}, PatternCase{"invalid_utf8", "\xFF", false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RegexError, GivesRe2Text) {
  EXPECT_EQ(regex_error("(abc"), "missing ): (abc");
}

TEST(RulesMatch, ReturnsTheFirstPatternThatMatchesInListOrder) {
  RuleSpec spec;
  spec.before_draft.match = {"zebra", "b", "a"};
  const Rules rules = compiled(spec);
  EXPECT_EQ(rules.first_match("ab"), 1u);
  EXPECT_EQ(rules.first_match("a"), 2u);
  EXPECT_EQ(rules.first_match("a zebra"), 0u);
  EXPECT_EQ(rules.first_match("xyz"), std::nullopt);
}

TEST(RulesMatch, EmptyPatternMatchesEverything) {
  RuleSpec spec;
  spec.after_draft.refusal = {""};
  EXPECT_EQ(compiled(spec).first_refusal(""), 0u);
}

TEST(RulesMatch, InvalidUtf8TextIsSearchedNotRejected) {
  RuleSpec spec;
  spec.before_draft.match = {kSpecMatch};
  const Rules rules = compiled(spec);
  EXPECT_EQ(rules.first_match("\xFF\xFE an incident \xC0"), 0u);
  EXPECT_EQ(rules.first_match("\xFF\xFE\x80"), std::nullopt);
}

struct TextCase {
  const char* name;
  std::string text;
  bool matches;
};

class SpecMatchPattern : public ::testing::TestWithParam<TextCase> {};

TEST_P(SpecMatchPattern, OnRealisticPrompts) {
  RuleSpec spec;
  spec.before_draft.match = {kSpecMatch};
  EXPECT_EQ(compiled(spec).first_match(GetParam().text).has_value(), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecMatchPattern,
    ::testing::Values(
        TextCase{"contract", "Please review this Contract for liability clauses.", true},
        TextCase{"incident_upper", "We had an INCIDENT in prod last night, write the postmortem",
                 true},
        TextCase{"diagnose", "Can you diagnose why my build fails?", true},
        TextCase{"diagnosis", "What is the differential diagnosis for chest pain?", true},
        // \b only before the word: a prefix of a longer word still matches.
        TextCase{"contractor", "The contractor was late again.", true},
        TextCase{"subcontract", "subcontracting is common", false},
        TextCase{"coincident", "a coincident event", false},
        TextCase{"haiku", "Write a haiku about autumn leaves.", false},
        TextCase{"after_accented_letter", "caf\xC3\xA9 incident report", true},
        TextCase{"empty", "", false}),
    [](const auto& info) { return std::string(info.param.name); });

class SpecRefusalPatterns : public ::testing::TestWithParam<TextCase> {};

TEST_P(SpecRefusalPatterns, OnRealisticDrafts) {
  RuleSpec spec;
  spec.after_draft.refusal = {kSpecRefusalDontKnow, kSpecRefusalInsufficient};
  EXPECT_EQ(compiled(spec).first_refusal(GetParam().text).has_value(), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecRefusalPatterns,
    ::testing::Values(
        TextCase{"dont_know", "I'm sorry, but I don't know the answer to that.", true},
        TextCase{"do_not_know_lower", "honestly i do not know.", true},
        TextCase{"shouting", "I DON'T KNOW", true},
        TextCase{"at_end", "What year was it? I don't know", true},
        TextCase{"knowledge", "I don't knowledge-share on weekends", false},
        TextCase{"i_know", "I know the answer: 42.", false},
        TextCase{"we_dont_know", "We don't know yet.", false},
        // Models often write a typographic apostrophe; the SPEC pattern does not cover it.
        TextCase{"curly_apostrophe", "I don\xE2\x80\x99t know", false},
        TextCase{"insufficient_context", "There is insufficient context to answer this.", true},
        TextCase{"insufficient_information", "Insufficient information was provided.", true},
        TextCase{"sufficient", "The information given is sufficient.", false},
        TextCase{"insufficient_funds", "The transfer failed: insufficient funds.", false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Rules, MovedRulesStillMatch) {
  RuleSpec spec;
  spec.after_draft.refusal = {kSpecRefusalDontKnow};
  Rules a = compiled(spec);
  Rules b = std::move(a);
  EXPECT_EQ(b.first_refusal("I don't know"), 0u);
}

TEST(Rules, SharedBetweenThreads) {
  RuleSpec spec;
  spec.before_draft.match = {kSpecMatch};
  spec.after_draft.refusal = {kSpecRefusalDontKnow, kSpecRefusalInsufficient};
  const Rules rules = compiled(spec);
  std::vector<int> found(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < found.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        found[t] += rules.first_match("an incident").has_value();
        found[t] += rules.first_refusal("insufficient context").value_or(9) == 1;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int n : found) EXPECT_EQ(n, 4000);
}

}  // namespace
}  // namespace gw::policies
