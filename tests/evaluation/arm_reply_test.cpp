#include "evaluation/arm_reply.hpp"

#include <gtest/gtest.h>

namespace gw::eval {
namespace {

TEST(ParseServerTiming, NamesAndDurations) {
  const auto t = parse_server_timing("prep;dur=0.05, upstream;dur=1.2,ttft;desc=\"x\";dur=50, bad");
  EXPECT_DOUBLE_EQ(t.at("prep"), 0.05);
  EXPECT_DOUBLE_EQ(t.at("upstream"), 1.2);
  EXPECT_DOUBLE_EQ(t.at("ttft"), 50);
  EXPECT_EQ(t.size(), 3u);
}

TEST(ParseSse, TextUsageFinishAndFirstToken) {
  const std::string body =
      "data: {\"id\":\"chatcmpl-sim-1\",\"choices\":[{\"delta\":{\"role\":\"assistant\","
      "\"content\":\"\"}}]}\n\n";
  EXPECT_FALSE(sse_has_first_token(body));
  const std::string more = body +
                           "data: {\"choices\":[{\"delta\":{\"content\":\"Hi \"}}]}\n\n"
                           "data: {\"choices\":[{\"delta\":{\"content\":\"there\"},"
                           "\"finish_reason\":\"stop\"}]}\n\n"
                           "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                           "\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
  EXPECT_TRUE(sse_has_first_token(more));
  const ArmReply a = parse_sse(more);
  EXPECT_EQ(a.text, "Hi there");
  EXPECT_EQ(a.finish_reason, "stop");
  EXPECT_EQ(a.prompt_tokens, 3u);
  EXPECT_EQ(a.completion_tokens, 2u);
  EXPECT_TRUE(a.id.starts_with(kSimulatorIdPrefix));
}

TEST(LogprobSummary, MeanMinP10MarginHold) {
  const auto s = logprob_summary({-0.1, -0.2, -3.0, -0.3}, 1.5, 2);
  EXPECT_EQ(s["n"], 4);
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), -0.9);
  EXPECT_DOUBLE_EQ(s["min"].get<double>(), -3.0);
  EXPECT_DOUBLE_EQ(s["p10"].get<double>(), -3.0);
  EXPECT_DOUBLE_EQ(s["first_margin"].get<double>(), 1.5);
  EXPECT_NEAR(s["hold_mean"].get<double>(), -0.15, 1e-12);
  EXPECT_TRUE(logprob_summary({}, std::nullopt, 24).is_null());
  EXPECT_TRUE(logprob_summary({-1}, std::nullopt, 24)["first_margin"].is_null());
}

TEST(ParseCompletion, FirstMarginFromTopLogprobs) {
  const ArmReply a = parse_completion(
      R"({"choices":[{"message":{"content":"Yes"},"finish_reason":"stop","logprobs":{"content":[)"
      R"({"token":"Yes","logprob":-0.1,"top_logprobs":[{"token":"Yes","logprob":-0.1},)"
      R"({"token":"No","logprob":-2.6}]}]}}],"usage":{"prompt_tokens":5,"completion_tokens":1}})");
  ASSERT_TRUE(a.parsed);
  ASSERT_TRUE(a.first_margin);
  EXPECT_DOUBLE_EQ(*a.first_margin, 2.5);
  EXPECT_FALSE(parse_completion("not json").parsed);
}

}  // namespace
}  // namespace gw::eval
