#include "evaluation/checks.hpp"

#include <gtest/gtest.h>

namespace gw::eval {
namespace {

TEST(LastNumber, TakesTheLastNumberWritten) {
  EXPECT_EQ(last_number("Step 1: 48 * 5 = 240. Step 2: 240 * 6 =\n1440"), 1440);
  EXPECT_EQ(last_number("about 1,234.5 units"), 1234.5);
  EXPECT_EQ(last_number("growth of 12.5%"), 12.5);
  EXPECT_EQ(last_number("it fell to -3 today"), -3);
  EXPECT_EQ(last_number("$0.0025 per request"), 0.0025);
  EXPECT_EQ(last_number("1e3 tokens"), 1000);
}

TEST(LastNumber, HyphensAndBadGroupsAreNotSigns) {
  EXPECT_EQ(last_number("pages 3-4"), 4);  // a range, not minus four
  EXPECT_EQ(last_number("1,23"), 23);      // not a thousands group
  EXPECT_EQ(last_number("a sentence ending in 7."), 7);
  EXPECT_FALSE(last_number("no numbers here"));
  EXPECT_FALSE(last_number(""));
}

TEST(NumbersMatch, RelativeToleranceOnly) {
  EXPECT_TRUE(numbers_match(43.333, 43.33));
  EXPECT_TRUE(numbers_match(1440, 1440));
  EXPECT_FALSE(numbers_match(1441, 1440));
  EXPECT_FALSE(numbers_match(0, 0.0025));  // small references need the digits, not 0
  EXPECT_TRUE(numbers_match(0.0025, 0.0025));
}

TEST(AutoQuality, NumericPhrasesRefusalTruncation) {
  const RefusalMatcher refusal(default_refusal_patterns());
  const auto ref =
      nlohmann::json::parse(R"({"numeric":7000,"phrases":["Supplier B"],"refusal":false})");
  auto arm = nlohmann::json::parse(
      R"({"error":null,"text":"Supplier B. The order costs 7,000","finish_reason":"stop"})");
  auto q = auto_quality(ref, arm, refusal);
  EXPECT_EQ(q["correct"], true);
  EXPECT_EQ(q["score"], 1.0);
  arm["finish_reason"] = "length";
  EXPECT_EQ(auto_quality(ref, arm, refusal)["correct"], false);  // truncated
  arm["finish_reason"] = "stop";
  arm["text"] = "The order costs 7000";
  EXPECT_EQ(auto_quality(ref, arm, refusal)["checks"]["phrases"]["missing"][0], "Supplier B");

  const auto refuse_ref = nlohmann::json::parse(R"({"refusal":true})");
  arm["text"] = "I don't know. The provided context is insufficient to answer that.";
  EXPECT_EQ(auto_quality(refuse_ref, arm, refusal)["correct"], true);
  arm["text"] = "It is 42.";
  EXPECT_EQ(auto_quality(refuse_ref, arm, refusal)["correct"], false);
  // A refusal where the context sufficed is wrong even without other checks.
  EXPECT_EQ(auto_quality(nlohmann::json::parse(R"({"refusal":false})"),
                         nlohmann::json{{"error", nullptr}, {"text", "I do not know."}},
                         refusal)["correct"],
            false);
}

TEST(AutoQuality, NothingToCheckIsNullNotGuessed) {
  const RefusalMatcher refusal(default_refusal_patterns());
  const auto q = auto_quality(nlohmann::json::object(),
                              nlohmann::json{{"error", nullptr}, {"text", "fine"}}, refusal);
  EXPECT_TRUE(q["correct"].is_null());
  EXPECT_TRUE(q["score"].is_null());
}

}  // namespace
}  // namespace gw::eval
