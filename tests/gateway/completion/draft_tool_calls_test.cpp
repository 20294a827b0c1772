#include "gateway/completion/draft_tool_calls.hpp"

#include <gtest/gtest.h>

#include "gateway/completion/completion.hpp"

namespace gw::chat {
namespace {

using nlohmann::json;

TEST(DraftToolCalls, ReadsAWholeAnswersCallsAndContentNull) {
  auto d = read_completion(json::parse(R"({"choices":[{"index":0,"message":{"role":"assistant",
    "content":null,"tool_calls":[
      {"id":"a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
      {"id":"b","type":"custom","custom":{"name":"shell","input":"ls"}}]},
    "finish_reason":"tool_calls"}]})"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "");
  EXPECT_TRUE(d->answered());  // issue 10: a bare tool call is an answer, not "no completion"
  ASSERT_EQ(d->tool_calls.calls.size(), 2u);
  EXPECT_EQ(d->tool_calls.calls[0].name, "get_weather");
  EXPECT_EQ(d->tool_calls.calls[0].arguments, R"({"city":"Oslo"})");
  EXPECT_TRUE(d->tool_calls.calls[0].function);
  EXPECT_EQ(d->tool_calls.calls[1].name, "shell");
  EXPECT_EQ(d->tool_calls.calls[1].arguments, "ls");
  EXPECT_FALSE(d->tool_calls.calls[1].function);
  EXPECT_EQ(d->tool_calls.complete_views(true).size(), 2u);
}

TEST(DraftToolCalls, LegacyFunctionCall) {
  auto d = read_completion(json::parse(R"({"choices":[{"message":{"content":null,
    "function_call":{"name":"lookup","arguments":"{}"}},"finish_reason":"function_call"}]})"));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->tool_calls.calls.size(), 1u);
  EXPECT_EQ(d->tool_calls.calls[0].name, "lookup");
}

TEST(DraftToolCalls, StructuredOutputRefusalIsText) {
  auto d = read_completion(
      json::parse(R"({"choices":[{"message":{"content":null,"refusal":"I can't help"}}]})"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "I can't help");
  EXPECT_TRUE(d->answered());
}

TEST(DraftToolCalls, NoTextNoCallIsNotAnAnswer) {
  auto d = read_completion(json::parse(R"({"choices":[{"message":{"content":null}}]})"));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->answered());
}

// Stream: the chunks OpenAI sends for two parallel calls, arguments in pieces.
TEST(DraftToolCalls, StreamDeltasAssembleAndCountAsProgress) {
  const char* chunks[] = {
      R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function",
          "function":{"name":"get_weather","arguments":""}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":1}"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function",
          "function":{"name":"now","arguments":"{}"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
  };
  DraftText d;
  std::vector<std::size_t> complete_after;
  std::vector<bool> open_after;
  for (const char* c : chunks) {
    auto chunk = read_chunk(c);
    ASSERT_TRUE(chunk) << c;
    accumulate(d, *chunk);
    complete_after.push_back(d.tool_calls.complete_views(false).size());
    open_after.push_back(d.tool_calls.last_open);
  }
  EXPECT_EQ(d.tokens, 4u);  // four chunks carried tool-call deltas; none carried content
  EXPECT_EQ(complete_after, (std::vector<std::size_t>{0, 0, 0, 0, 1, 2}));
  EXPECT_EQ(open_after, (std::vector<bool>{false, true, true, true, true, false}));
  ASSERT_EQ(d.tool_calls.calls.size(), 2u);
  EXPECT_EQ(d.tool_calls.calls[0].name, "get_weather");
  EXPECT_EQ(d.tool_calls.calls[0].arguments, R"({"city":1})");
  EXPECT_EQ(d.tool_calls.calls[1].name, "now");
  EXPECT_EQ(d.finish_reason, "tool_calls");
  EXPECT_TRUE(d.answered());
}

TEST(DraftToolCalls, AnotherChoiceClosesTheOpenCall) {
  DraftToolCalls calls;
  add_tool_call_deltas(json::parse(R"({"tool_calls":[{"index":0,"function":{"name":"a"}}]})"), 0,
                       calls);
  EXPECT_EQ(calls.complete_views(false).size(), 0u);
  add_tool_call_deltas(json::parse(R"({"tool_calls":[{"index":0,"function":{"name":"b"}}]})"), 1,
                       calls);
  EXPECT_EQ(calls.complete_views(false).size(), 1u);
  EXPECT_TRUE(calls.last_open);
  close_tool_calls(calls, 0);  // the other choice's finish does not close choice 1's call
  EXPECT_TRUE(calls.last_open);
  close_tool_calls(calls, 1);
  EXPECT_FALSE(calls.last_open);
}

TEST(DraftToolCalls, ContentOnlyChunksAreNotToolCalls) {
  DraftText d;
  accumulate(d, *read_chunk(R"({"choices":[{"index":0,"delta":{"content":"Hi"}}]})"));
  EXPECT_EQ(d.tokens, 1u);
  EXPECT_TRUE(d.tool_calls.empty());
  EXPECT_FALSE(d.tool_calls.last_open);
}

}  // namespace
}  // namespace gw::chat
