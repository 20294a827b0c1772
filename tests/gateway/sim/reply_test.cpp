#include "gateway/sim/reply.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gw::sim {
namespace {

ChatRequest parse_chat_ok(std::string_view body) {
  auto parsed = parse_chat_request(body);
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(parsed));
  return std::get<ChatRequest>(parsed);
}

TEST(ParseChatRequest, RejectsMissingFieldsWithParam) {
  auto bad = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(std::holds_alternative<RequestError>(bad));
  EXPECT_EQ(std::get<RequestError>(bad).param, "model");
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_chat_request(R"({"model":"m"})")));
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_chat_request("not json")));
}

TEST(ParseChatRequest, SameConversationSameHashWhateverTheFormatting) {
  const ChatRequest a =
      parse_chat_ok(R"({"model":"a","messages":[{"role":"user","content":"hi"}]})");
  const ChatRequest b =
      parse_chat_ok(R"({ "messages": [ {"content": "hi", "role": "user"} ], "model": "b" })");
  EXPECT_EQ(a.messages_hash, b.messages_hash);
  EXPECT_EQ(a.prompt_chars, 2u);
}

TEST(PlanReply, MaxTokensTruncatesWithLength) {
  const ChatRequest req =
      parse_chat_ok(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"}]})");
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  EXPECT_EQ(plan.tokens.size(), 5u);
  EXPECT_EQ(plan.finish_reason, "length");
}

TEST(PlanReply, EchoAnswersTheQuestionWithoutDirectives) {
  const ChatRequest req = parse_chat_ok(
      R"({"model":"m","messages":[{"role":"user","content":"old"},{"role":"assistant","content":"x"},)"
      R"({"role":"user","content":"what [sim:echo] now"}]})");
  EXPECT_EQ(plan_reply(req, ModelProfile{}, 1).tokens.text(), "what now");
}

TEST(CompletionBody, IsOpenAiShapedJson) {
  const ChatRequest req = parse_chat_ok(
      R"({"model":"m","logprobs":true,"messages":[{"role":"user","content":"[sim:text=a_\"b]"}]})");
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  const auto j = nlohmann::json::parse(completion_body(req, plan, "id-1", 7));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "a \"b");
  EXPECT_EQ(j["choices"][0]["logprobs"]["content"][0]["token"], "a ");
  EXPECT_EQ(j["usage"]["completion_tokens"], 2);
}

}  // namespace
}  // namespace gw::sim
