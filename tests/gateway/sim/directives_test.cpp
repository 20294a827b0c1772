#include "gateway/sim/directives.hpp"

#include <gtest/gtest.h>

namespace gw::sim {
namespace {

TEST(FindDirectives, ParsesNamesValuesAndScopes) {
  const auto d = find_directives("hi [sim:refuse@phi-4-mini] and [sim:tokens=7] [sim:short]");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].name, "refuse");
  EXPECT_EQ(d[0].model, "phi-4-mini");
  EXPECT_EQ(d[1].name, "tokens");
  EXPECT_EQ(d[1].value, "7");
  EXPECT_TRUE(d[1].model.empty());
  EXPECT_EQ(d[2].name, "short");
}

TEST(FindDirectives, IgnoresUnclosedAndPlainBrackets) {
  EXPECT_TRUE(find_directives("[note] [sim:refuse").empty());
}

TEST(StripDirectives, RemovesOnlyDirectives) {
  EXPECT_EQ(strip_directives("a [sim:echo] b [x]"), "a  b [x]");
}

TEST(ScriptFor, ScopedDirectivesApplyOnlyToTheirModel) {
  const auto d = find_directives("[sim:refuse@phi-4-mini][sim:logprob=-2.5][sim:error=503@gpt]");
  const Script phi = script_for(d, "phi-4-mini");
  EXPECT_TRUE(phi.refuse);
  EXPECT_EQ(phi.logprob, -2.5);
  EXPECT_FALSE(phi.error_status);
  const Script gpt = script_for(d, "gpt");
  EXPECT_FALSE(gpt.refuse);
  EXPECT_EQ(gpt.error_status, 503u);
}

TEST(ScriptFor, DecodesValuesAndIgnoresBadOnes) {
  const auto s = script_for(
      find_directives("[sim:text=Hello_big_world][sim:cut=3][sim:tps=50][sim:ttft=x][sim:error=42]"
                      "[sim:stall_after=2][sim:no_usage][sim:length][sim:bogus]"),
      "m");
  EXPECT_EQ(s.text, "Hello big world");
  EXPECT_EQ(s.cut_after, 3u);
  EXPECT_EQ(s.tokens_per_s, 50.0);
  EXPECT_FALSE(s.ttft_ms);
  EXPECT_FALSE(s.error_status);
  EXPECT_EQ(s.stall_after, 2u);
  EXPECT_TRUE(s.no_usage);
  EXPECT_TRUE(s.force_length);
}

}  // namespace
}  // namespace gw::sim
