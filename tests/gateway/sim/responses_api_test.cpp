#include "gateway/sim/responses_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gw::sim {
namespace {

using nlohmann::json;

ChatRequest parse_responses_ok(std::string_view body) {
  auto parsed = parse_responses_request(body);
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(parsed));
  return std::get<ChatRequest>(parsed);
}

std::string data_of(const std::string& event) {
  auto p = event.find("\ndata: ");
  return event.substr(p + 7, event.size() - p - 7 - 2);
}

TEST(ResponsesRequest, InputStringOrItemsWithDirectives) {
  EXPECT_EQ(parse_responses_ok(R"({"model":"m","input":"[sim:tokens=3] hi"})").last_user_text,
            "[sim:tokens=3] hi");
  auto r = parse_responses_ok(
      R"({"model":"m","instructions":"be brief","max_output_tokens":4,"stream":true,
          "input":[{"role":"user","content":[{"type":"input_text","text":"a"}]},
                   {"type":"function_call_output","call_id":"c","output":"42"},
                   {"role":"user","content":"b"}]})");
  EXPECT_EQ(r.last_user_text, "b");
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.max_tokens, 4u);
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_responses_request(R"({"model":"m"})")));
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_responses_request(R"({"input":"x"})")));
}

TEST(ResponsesWire, NonStreamResponseObject) {
  const ChatRequest req = parse_responses_ok(R"({"model":"m","input":"[sim:tokens=5] hi"})");
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  const json r = json::parse(ResponsesWire(req, plan, "1", 100).body());
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["output"][0]["type"], "message");
  EXPECT_EQ(r["output"][0]["content"][0]["type"], "output_text");
  EXPECT_EQ(r["output"][0]["content"][0]["text"], std::string(plan.tokens.text()));
  EXPECT_EQ(r["output_text"], std::string(plan.tokens.text()));
  EXPECT_EQ(r["usage"]["output_tokens"], 5);
  EXPECT_EQ(r["usage"]["total_tokens"],
            r["usage"]["input_tokens"].get<int>() + r["usage"]["output_tokens"].get<int>());
}

TEST(ResponsesWire, StreamEventsInOrderWithSequenceNumbers) {
  const ChatRequest req =
      parse_responses_ok(R"({"model":"m","input":"[sim:tokens=2] hi","stream":true})");
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  const ResponsesWire wire(req, plan, "1", 100);
  std::vector<std::string> events = wire.opening();
  for (size_t i = 0; i < plan.tokens.size(); ++i) events.push_back(wire.token(i));
  for (auto& e : wire.closing()) events.push_back(e);
  std::vector<std::string> types;
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    const json d = json::parse(data_of(events[i]));
    EXPECT_EQ(d["sequence_number"], i);
    EXPECT_EQ(events[i].rfind("event: " + d["type"].get<std::string>() + "\n", 0), 0u);
    types.push_back(d["type"]);
    if (d["type"] == "response.output_text.delta") text += d["delta"].get<std::string>();
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "response.output_item.added", "response.content_part.added",
                                      "response.output_text.delta", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  EXPECT_EQ(text, std::string(plan.tokens.text()));
}

TEST(ResponsesWire, MaxOutputTokensMakesAnIncompleteResponse) {
  const ChatRequest req = parse_responses_ok(R"({"model":"m","input":"hi","max_output_tokens":2})");
  const ReplyPlan plan = plan_reply(req, ModelProfile{}, 1);
  const json r = json::parse(ResponsesWire(req, plan, "1", 100).body());
  EXPECT_EQ(r["status"], "incomplete");
  EXPECT_EQ(r["incomplete_details"]["reason"], "max_output_tokens");
}

}  // namespace
}  // namespace gw::sim
