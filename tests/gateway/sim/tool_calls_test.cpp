#include "gateway/sim/tool_calls.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "gateway/sim/reply.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;

const char* kTools = R"("tools":[{"type":"function","function":{"name":"get_weather",
  "parameters":{"type":"object","properties":{"city":{"type":"string"},
  "days":{"type":"integer"},"unit":{"enum":["C","F"]}},"required":["city","days","unit"]}}},
  {"type":"function","function":{"name":"now"}}])";

ChatRequest parse(const std::string& extra, const std::string& user,
                  const std::string& more_messages = "") {
  auto parsed =
      parse_chat_request(R"({"model":"m",)" + extra + R"(,"messages":[{"role":"user","content":")" +
                         user + "\"}" + more_messages + "]}");
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(parsed));
  return std::get<ChatRequest>(parsed);
}

ReplyPlan plan(const std::string& extra, const std::string& user,
               const std::string& more_messages = "") {
  return plan_reply(parse(extra, user, more_messages), ModelProfile{}, 1);
}

TEST(SimToolCalls, CallsTheFirstToolWithItsRequiredArguments) {
  const ReplyPlan p = plan(kTools, "weather?");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].name, "get_weather");
  EXPECT_EQ(json::parse(p.tool_calls[0].arguments),
            json::parse(R"({"city":"sample","days":1,"unit":"C"})"));
  EXPECT_EQ(p.finish_reason, "tool_calls");
  EXPECT_TRUE(p.tokens.empty());
}

TEST(SimToolCalls, AnswersTextAfterAToolResult) {
  const ReplyPlan p =
      plan(kTools, "weather?", R"(,{"role":"tool","tool_call_id":"x","content":"21"})");
  EXPECT_TRUE(p.tool_calls.empty());
  EXPECT_FALSE(p.tokens.empty());
  EXPECT_EQ(p.finish_reason, "stop");
}

TEST(SimToolCalls, NoToolDirectiveAndToolChoiceNone) {
  EXPECT_TRUE(plan(kTools, "[sim:no_tool] hi").tool_calls.empty());
  EXPECT_TRUE(plan(std::string(kTools) + R"(,"tool_choice":"none")", "hi").tool_calls.empty());
}

TEST(SimToolCalls, DirectivesBreakTheCall) {
  EXPECT_EQ(plan(kTools, "[sim:tool=get_wether] x").tool_calls[0].name, "get_wether");
  EXPECT_TRUE(
      json::parse(plan(kTools, "[sim:tool_args=not_object] x").tool_calls[0].arguments).is_array());
  EXPECT_EQ(json::parse(plan(kTools, "[sim:tool_args=missing] x").tool_calls[0].arguments),
            json::parse(R"({"days":1,"unit":"C"})"));
  const ReplyPlan pre = plan(kTools, "[sim:preamble=Let_me_check.] x");
  EXPECT_EQ(pre.tokens.text(), "Let me check.");
  EXPECT_EQ(pre.tool_calls.size(), 1u);
  const ReplyPlan two = plan(kTools, "[sim:tool_calls=2] x");
  ASSERT_EQ(two.tool_calls.size(), 2u);
  EXPECT_EQ(two.tool_calls[1].name, "now");
  EXPECT_NE(two.tool_calls[0].id, two.tool_calls[1].id);
  // Scoped to another model: not for this one.
  EXPECT_EQ(plan(kTools, "[sim:tool=x@other] x").tool_calls[0].name, "get_weather");
}

TEST(SimToolCalls, BodyHasContentNullAndTheCalls) {
  const ChatRequest req = parse(kTools, "x");
  const ReplyPlan p = plan_reply(req, ModelProfile{}, 1);
  const json body = json::parse(completion_body(req, p, "id", 0));
  const json& message = body["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(message["tool_calls"][0]["type"], "function");
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
}

TEST(SimToolCalls, DeltasSplitTheArgumentsInPieces) {
  const SimToolCall call{"call_1", "f", R"({"a":"bcdef"})"};
  for (uint32_t pieces : {1u, 3u, 13u, 50u}) {
    const auto deltas = tool_call_deltas(call, 2, pieces);
    ASSERT_GE(deltas.size(), 2u);
    const json first = json::parse(deltas[0]);
    EXPECT_EQ(first["tool_calls"][0]["index"], 2);
    EXPECT_EQ(first["tool_calls"][0]["function"]["name"], "f");
    std::string args;
    for (size_t i = 1; i < deltas.size(); ++i) {
      args += json::parse(deltas[i])["tool_calls"][0]["function"]["arguments"].get<std::string>();
    }
    EXPECT_EQ(args, call.arguments) << pieces;
    EXPECT_EQ(deltas.size() - 1, std::min<size_t>(pieces, call.arguments.size())) << pieces;
  }
}

TEST(SimStructuredOutput, SchemaAnswerAndItsBreakages) {
  const std::string fmt = R"("response_format":{"type":"json_schema","json_schema":{"name":"v",
    "schema":{"type":"object","properties":{"ok":{"type":"boolean"},"n":{"type":"number"}},
    "required":["ok","n"]}}})";
  EXPECT_EQ(json::parse(plan(fmt, "x").tokens.text()), json::parse(R"({"ok":true,"n":1})"));
  EXPECT_EQ(json::parse(plan(fmt, "[sim:json_missing] x").tokens.text()),
            json::parse(R"({"n":1})"));
  EXPECT_FALSE(json::accept(plan(fmt, "[sim:bad_json] x").tokens.text()));
  // A scripted text wins over the structured answer (e.g. a refusal).
  EXPECT_EQ(plan(fmt, "[sim:short] x").tokens.text(), "OK.");
}

TEST(SimStructuredOutput, JsonObjectAnswer) {
  const ReplyPlan p = plan(R"("response_format":{"type":"json_object"})", "x");
  EXPECT_TRUE(json::parse(p.tokens.text()).is_object());
  EXPECT_TRUE(plan(R"("response_format":{"type":"text"})", "x").tokens.size() > 10);
}

}  // namespace
}  // namespace gw::sim
