#include "policies/pairwise_judge.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::policies {
namespace {

TEST(ParsePair, WinnerOrNothing) {
  EXPECT_EQ(parse_pair(R"({"winner":"A"})"), "A");
  EXPECT_EQ(parse_pair(R"({"winner":"B"})"), "B");
  EXPECT_EQ(parse_pair(R"({"winner":"tie"})"), "tie");
  EXPECT_EQ(parse_pair("```json\n{\"winner\": \"B\"}\n```"), "B");
  EXPECT_FALSE(parse_pair(R"({"winner":"C"})"));
  EXPECT_FALSE(parse_pair(R"({"winner":1})"));
  EXPECT_FALSE(parse_pair(R"({"verdict":"A"})"));
  EXPECT_FALSE(parse_pair(R"(["A"])"));
  EXPECT_FALSE(parse_pair("A"));
  EXPECT_FALSE(parse_pair(R"(I pick {"winner":"A"})"));
  EXPECT_FALSE(parse_pair(""));
}

TEST(StripJsonFence, OneFenceAndSurroundingSpace) {
  EXPECT_EQ(strip_json_fence("  {\"a\":1}\n"), "{\"a\":1}");
  EXPECT_EQ(strip_json_fence("```json\n{}\n```"), "{}");
  EXPECT_EQ(strip_json_fence("```\n{}\n```"), "{}");
  EXPECT_EQ(strip_json_fence("``````"), "");
  EXPECT_EQ(strip_json_fence("```{}"), "```{}");  // unclosed: left as it is, then unparsed
}

TEST(PairMessages, BothAnswersInOrderNoModelNames) {
  const auto m = pair_messages("What is 2+2?", "four", "4");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["role"], "system");
  const std::string user = m[1]["content"].get<std::string>();
  const auto a = user.find("Answer A:\n<<<\nfour\n>>>");
  const auto b = user.find("Answer B:\n<<<\n4\n>>>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_NE(user.find("What is 2+2?"), std::string::npos);
  const std::string all = m.dump();
  EXPECT_EQ(all.find("phi"), std::string::npos);
  EXPECT_EQ(all.find("gpt"), std::string::npos);
}

}  // namespace
}  // namespace gw::policies
