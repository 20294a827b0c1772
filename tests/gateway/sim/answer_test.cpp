#include "gateway/sim/answer.hpp"

#include <gtest/gtest.h>

namespace gw::sim {
namespace {

TEST(Tokenize, OneTokenIsAWordPlusItsFollowingSpace) {
  const Tokens t = tokenize("  I don't\n know. ");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], "I ");
  EXPECT_EQ(t[1], "don't ");
  EXPECT_EQ(t[2], "know.");
  EXPECT_EQ(t.text(), "I don't know.");
  EXPECT_TRUE(tokenize(" \n").empty());
}

TEST(Tokens, TruncateDropsTheTrailingSpace) {
  Tokens t = tokenize("a b c d");
  t.truncate(2);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.text(), "a b");
  EXPECT_EQ(t[1], "b");
}

TEST(GenerateTokens, DeterministicPerSeedAndExactCount) {
  const Tokens a = generate_tokens(42, 60);
  const Tokens b = generate_tokens(42, 60);
  const Tokens c = generate_tokens(43, 60);
  EXPECT_EQ(a.size(), 60u);
  EXPECT_EQ(a.text(), b.text());
  EXPECT_NE(a.text(), c.text());
  EXPECT_EQ(generate_tokens(1, 400).size(), 400u);
  EXPECT_TRUE(generate_tokens(1, 0).empty());
}

TEST(EstimatePromptTokens, RoundsUpQuarterOfChars) {
  EXPECT_EQ(estimate_prompt_tokens(0), 0u);
  EXPECT_EQ(estimate_prompt_tokens(1), 1u);
  EXPECT_EQ(estimate_prompt_tokens(8), 2u);
  EXPECT_EQ(estimate_prompt_tokens(9), 3u);
}

}  // namespace
}  // namespace gw::sim
