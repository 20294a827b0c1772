#include "evaluation/judge.hpp"

#include <gtest/gtest.h>

namespace gw::eval {
namespace {

TEST(ParseRubric, StrictJsonWithThreeScores) {
  auto r = parse_rubric(R"({"coherence": 5, "factuality": 3, "conciseness": 1})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["factuality"], 3);
  EXPECT_DOUBLE_EQ((*r)["score"].get<double>(), (1.0 + 0.5 + 0.0) / 3);
  EXPECT_TRUE(parse_rubric("```json\n{\"coherence\":4,\"factuality\":4,\"conciseness\":4}\n```"));
}

TEST(ParseRubric, AnythingElseIsUnparsed) {
  EXPECT_FALSE(parse_rubric("Sounds good, five stars."));
  EXPECT_FALSE(parse_rubric(R"(Scores: {"coherence":5,"factuality":5,"conciseness":5})"));
  EXPECT_FALSE(parse_rubric(R"({"coherence":6,"factuality":5,"conciseness":5})"));
  EXPECT_FALSE(parse_rubric(R"({"coherence":4.5,"factuality":5,"conciseness":5})"));
  EXPECT_FALSE(parse_rubric(R"({"coherence":"4","factuality":5,"conciseness":5})"));
  EXPECT_FALSE(parse_rubric(R"({"coherence":4,"factuality":5})"));
  EXPECT_FALSE(parse_rubric(""));
}

TEST(JudgeCacheKey, EveryPartCounts) {
  const auto k = judge_cache_key("gpt-oss-20b", kJudgePromptVersion, "q", "a");
  EXPECT_EQ(k, "gpt-oss-20b|hg.judge/1|" + text_hash("q") + "|" + text_hash("a"));
  EXPECT_NE(k, judge_cache_key("phi-4-mini", kJudgePromptVersion, "q", "a"));
  EXPECT_NE(k, judge_cache_key("gpt-oss-20b", "hg.judge/2", "q", "a"));
  EXPECT_NE(k, judge_cache_key("gpt-oss-20b", kJudgePromptVersion, "q2", "a"));
  EXPECT_NE(k, judge_cache_key("gpt-oss-20b", kJudgePromptVersion, "q", "a2"));
  EXPECT_EQ(text_hash(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
}

TEST(JudgeMessages, NoModelNames) {
  const auto m = judge_messages("What is 2+2?", "4", "4");
  const std::string all = m.dump();
  EXPECT_EQ(all.find("phi"), std::string::npos);
  EXPECT_EQ(all.find("gpt"), std::string::npos);
  EXPECT_NE(all.find("Answer to grade"), std::string::npos);
}

}  // namespace
}  // namespace gw::eval
