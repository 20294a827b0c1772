// Agreement between a draft and the large model's answer (shadow escalation), table-driven.
#include "policies/agreement.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gw::policies {
namespace {

struct NumberCase {
  std::string_view text;
  std::optional<std::string> want;
};

TEST(LastNumber, NormalisesTheLastNumberInText) {
  const std::vector<NumberCase> cases = {
      {"The answer is 42.", "42"},
      {"first 3 then 7", "7"},
      {"total: 1,234.50 USD", "1234.5"},
      {"1,2,3", "3"},
      {"12.000", "12"},
      {"3.", "3"},
      {"x = -5", "-5"},
      {"-0.0", "0"},
      {"007", "7"},
      {"a-5 is a name", "5"},
      {"gpt4 has none", std::nullopt},
      {"no numbers here", std::nullopt},
      {"", std::nullopt},
      {"1,234,567 apples", "1234567"},
      {"1,2345", "2345"},
  };
  for (const auto& c : cases) EXPECT_EQ(last_number(c.text), c.want) << c.text;
}

TEST(TokenF1, CountsSharedTokensAsMultisets) {
  EXPECT_DOUBLE_EQ(token_f1("", ""), 1.0);
  EXPECT_DOUBLE_EQ(token_f1("a", ""), 0.0);
  EXPECT_DOUBLE_EQ(token_f1("The Cat sat", "the cat SAT!"), 1.0);
  EXPECT_DOUBLE_EQ(token_f1("a b", "c d"), 0.0);
  // 2 of 4 draft tokens, 2 of 2 reference tokens: P 0.5, R 1 -> F1 2/3.
  EXPECT_NEAR(token_f1("a b c d", "a b"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(token_f1("a a", "a b"), 0.5, 1e-12);
}

TEST(LengthRatio, ShorterOverLonger) {
  EXPECT_DOUBLE_EQ(length_ratio("", ""), 1.0);
  EXPECT_DOUBLE_EQ(length_ratio("ab", "abcd"), 0.5);
  EXPECT_DOUBLE_EQ(length_ratio("abcd", "ab"), 0.5);
}

TEST(JsonEqual, ComparesValuesNotBytes) {
  EXPECT_TRUE(json_equal(R"({"a":1,"b":[1,2]})", R"( { "b" : [1,2], "a" : 1 } )"));
  EXPECT_FALSE(json_equal(R"({"a":1})", R"({"a":2})"));
  EXPECT_TRUE(json_equal("", "{}"));
  EXPECT_TRUE(json_equal("not json", " not json "));
  EXPECT_FALSE(json_equal("not json", "{}"));
}

struct VerdictCase {
  std::string_view name;
  std::string_view draft;
  std::string_view reference;
  ShadowVerdict want;
  std::optional<double> score;
  std::string_view basis;
};

TEST(CompareAnswers, VerdictRule) {
  const std::vector<VerdictCase> cases = {
      {"same number", "It is 1,200.", "The total is 1200.0", ShadowVerdict::draft_ok, 1.0,
       "numeric"},
      {"other number", "It is 41.", "It is 42.", ShadowVerdict::draft_worse, 0.0, "numeric"},
      {"draft has no number", "I am not sure.", "It is 42.", ShadowVerdict::draft_worse, 0.0,
       "numeric"},
      {"only the draft has a number, similar words", "Paris is the capital, since 1789",
       "Paris is the capital", ShadowVerdict::draft_ok, std::nullopt, "token_f1"},
      {"different words", "Lyon", "Paris is the capital of France", ShadowVerdict::tie, 0.0,
       "token_f1"},
  };
  for (const auto& c : cases) {
    auto a = compare_answers({c.draft, {}}, {c.reference, {}});
    EXPECT_EQ(a.verdict, c.want) << c.name;
    EXPECT_EQ(a.basis, c.basis) << c.name;
    if (c.score) {
      EXPECT_DOUBLE_EQ(*a.score, *c.score) << c.name;
    }
  }
}

TEST(CompareAnswers, NumericOffFallsBackToTokenF1) {
  AgreementOptions only_f1{.numeric = false, .token_f1 = true};
  auto a = compare_answers({"It is 41", {}}, {"It is 42", {}}, only_f1);
  EXPECT_EQ(a.basis, "token_f1");
  EXPECT_EQ(a.verdict, ShadowVerdict::draft_ok);  // 2 of 3 tokens shared: F1 2/3
  EXPECT_EQ(a.numeric_equal, false);              // still measured, for the decision log
  AgreementOptions none{.numeric = false, .token_f1 = false};
  auto b = compare_answers({"x", {}}, {"y", {}}, none);
  EXPECT_EQ(b.verdict, ShadowVerdict::tie);
  EXPECT_FALSE(b.score.has_value());
}

TEST(CompareAnswers, ToolCallsNeedSameFunctionsAndEqualArguments) {
  const ToolCall weather{"get_weather", R"({"city":"Paris","unit":"c"})"};
  const ToolCall weather_reordered{"get_weather", R"({"unit":"c", "city":"Paris"})"};
  const ToolCall weather_lyon{"get_weather", R"({"city":"Lyon","unit":"c"})"};
  const ToolCall time{"get_time", R"({"city":"Paris","unit":"c"})"};
  struct Case {
    std::vector<ToolCall> draft, reference;
    ShadowVerdict want;
  };
  const std::vector<Case> cases = {
      {{weather}, {weather_reordered}, ShadowVerdict::draft_ok},
      {{weather}, {weather_lyon}, ShadowVerdict::draft_worse},
      {{weather}, {time}, ShadowVerdict::draft_worse},
      {{weather}, {weather, time}, ShadowVerdict::draft_worse},
      {{}, {weather}, ShadowVerdict::draft_worse},
      {{weather}, {}, ShadowVerdict::draft_worse},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto a = compare_answers({"", cases[i].draft}, {"", cases[i].reference});
    EXPECT_EQ(a.verdict, cases[i].want) << i;
    EXPECT_EQ(a.basis, "tool_calls") << i;
  }
}

TEST(ShadowVerdictNames, AreTheMetricLabels) {
  EXPECT_EQ(to_string(ShadowVerdict::draft_ok), "draft_ok");
  EXPECT_EQ(to_string(ShadowVerdict::draft_worse), "draft_worse");
  EXPECT_EQ(to_string(ShadowVerdict::draft_better), "draft_better");
  EXPECT_EQ(to_string(ShadowVerdict::tie), "tie");
}

}  // namespace
}  // namespace gw::policies
