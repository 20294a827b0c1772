#include "gateway/sim/completions.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gw::sim {
namespace {

using nlohmann::json;

TEST(CompletionsWire, TextCompletionWholeAndStreamed) {
  auto parsed = parse_completions_request(
      R"({"model":"m","prompt":["[sim:tokens=3] ","go"],"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(parsed));
  const ChatRequest& req = std::get<ChatRequest>(parsed);
  EXPECT_TRUE(req.stream);
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  const CompletionsWire wire(req, plan, "1", 100);
  const json whole = json::parse(wire.body());
  EXPECT_EQ(whole["object"], "text_completion");
  EXPECT_EQ(whole["choices"][0]["text"], std::string(plan.tokens.text()));
  EXPECT_EQ(whole["usage"]["completion_tokens"], 3);
  EXPECT_TRUE(wire.opening().empty());
  std::string text;
  for (size_t i = 0; i < plan.tokens.size(); ++i) {
    text += json::parse(wire.token(i).substr(6))["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, std::string(plan.tokens.text()));
  const auto closing = wire.closing();
  ASSERT_EQ(closing.size(), 3u);  // finish, usage, [DONE]
  EXPECT_EQ(json::parse(closing[0].substr(6))["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(closing[1].substr(6))["usage"]["completion_tokens"], 3);
  EXPECT_EQ(closing[2], "data: [DONE]\n\n");
}

TEST(CompletionsRequest, PromptRequired) {
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_completions_request(R"({"model":"m"})")));
}

}  // namespace
}  // namespace gw::sim
