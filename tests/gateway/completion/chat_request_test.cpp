#include "gateway/completion/chat_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::chat {
namespace {

const http::OpenAiError* error_of(const std::variant<ChatRequest, http::OpenAiError>& r) {
  return std::get_if<http::OpenAiError>(&r);
}

TEST(ParseChatRequest, ValidMinimal) {
  auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  const auto* req = std::get_if<ChatRequest>(&r);
  ASSERT_TRUE(req) << error_of(r)->message;
  EXPECT_EQ(req->model, "m");
  EXPECT_FALSE(req->stream);
  EXPECT_FALSE(req->include_usage);
  EXPECT_FALSE(req->logprobs);
  EXPECT_EQ(req->json["messages"][0]["content"], "hi");
}

TEST(ParseChatRequest, FlagsParsed) {
  auto r = parse_chat_request(R"({"model":"auto","messages":[{"role":"user","content":"hi"}],
      "stream":true,"stream_options":{"include_usage":true},"logprobs":true,
      "max_tokens":16,"max_completion_tokens":0,"n":1,"temperature":0.7})");
  const auto* req = std::get_if<ChatRequest>(&r);
  ASSERT_TRUE(req) << error_of(r)->message;
  EXPECT_EQ(req->model, "auto");
  EXPECT_TRUE(req->stream);
  EXPECT_TRUE(req->include_usage);
  EXPECT_TRUE(req->logprobs);
}

TEST(ParseChatRequest, ExplicitFalseAndNullFlags) {
  auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
      "stream":false,"stream_options":null,"logprobs":null,"max_tokens":null,"temperature":1})");
  const auto* req = std::get_if<ChatRequest>(&r);
  ASSERT_TRUE(req) << error_of(r)->message;
  EXPECT_FALSE(req->stream);
  EXPECT_FALSE(req->include_usage);
  EXPECT_FALSE(req->logprobs);
}

TEST(ParseChatRequest, AcceptedContentShapes) {
  auto r = parse_chat_request(R"({"model":"m","messages":[
      {"role":"system","content":"s"},
      {"role":"user","content":[{"type":"text","text":"hi"}]},
      {"role":"assistant","content":null,"tool_calls":[]},
      {"role":"tool"}]})");
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(r)) << error_of(r)->message;
}

TEST(ParseChatRequest, InvalidJsonReportsPosition) {
  auto r = parse_chat_request(R"({"model": "m",})");
  const auto* e = error_of(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400u);
  EXPECT_EQ(e->type, "invalid_request_error");
  EXPECT_EQ(e->code, "invalid_json");
  EXPECT_EQ(e->message.rfind("request body is not valid JSON: parse error at line 1, column ", 0),
            0u)
      << e->message;
  EXPECT_EQ(e->message.find("[json.exception"), std::string::npos) << e->message;
}

// Serialising recurses per level: deep nesting is refused before it can exhaust the stack.
TEST(ParseChatRequest, DeepNestingIsRefused) {
  std::string deep = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}";
  auto refused = parse_chat_request(deep);
  const auto* e = error_of(refused);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400u);
  EXPECT_EQ(e->code, "invalid_json");
  EXPECT_NE(e->message.find("deeper than 64"), std::string::npos) << e->message;

  // Brackets inside strings do not count; ordinary nesting passes.
  std::string fine = R"({"model":"m","messages":[{"role":"user","content":"[[[[{{{{\"]]"}],"x":)";
  fine += std::string(60, '[') + std::string(60, ']') + "}";
  auto accepted = parse_chat_request(fine);
  EXPECT_FALSE(error_of(accepted)) << error_of(accepted)->message;
}

TEST(ParseChatRequest, EmptyBodyIsInvalidJson) {
  auto r = parse_chat_request("");
  const auto* e = error_of(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "invalid_json");
}

TEST(ParseChatRequest, MultiLineJsonErrorNamesLine) {
  auto r = parse_chat_request("{\n\"model\": \"m\",\n\"messages\": [}\n");
  const auto* e = error_of(r);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("line 3"), std::string::npos) << e->message;
}

struct BadCase {
  const char* name;
  const char* body;
  const char* param;     // expected error.param; "" = absent/empty
  const char* contains;  // a substring of the message
};

class ParseChatRequestRejects : public testing::TestWithParam<BadCase> {};

TEST_P(ParseChatRequestRejects, With400) {
  const auto& c = GetParam();
  auto r = parse_chat_request(c.body);
  const auto* e = error_of(r);
  ASSERT_TRUE(e) << c.body;
  EXPECT_EQ(e->status, 400u);
  EXPECT_EQ(e->type, "invalid_request_error");
  EXPECT_EQ(e->code, "invalid_request");
  EXPECT_EQ(e->param.value_or(""), c.param);
  EXPECT_NE(e->message.find(c.contains), std::string::npos) << e->message;
  // Whatever the input, the error body is valid JSON.
  EXPECT_TRUE(nlohmann::json::accept(e->body())) << e->body();
}

#define MSGS R"("messages":[{"role":"user","content":"hi"}])"

INSTANTIATE_TEST_SUITE_P(
    Fields, ParseChatRequestRejects,
    testing::Values(
        BadCase{"ArrayBody", "[1,2]", "", "must be a JSON object"},
        BadCase{"StringBody", "\"hi\"", "", "must be a JSON object"},
        BadCase{"NullBody", "null", "", "must be a JSON object"},
        BadCase{"ModelMissing", "{" MSGS "}", "model", "model"},
        BadCase{"ModelEmpty", R"({"model":"",)" MSGS "}", "model", "non-empty string"},
        BadCase{"ModelNumber", R"({"model":7,)" MSGS "}", "model", "non-empty string"},
        BadCase{"ModelNull", R"({"model":null,)" MSGS "}", "model", "non-empty string"},
        BadCase{"MessagesMissing", R"({"model":"m"})", "messages", "required"},
        BadCase{"MessagesEmpty", R"({"model":"m","messages":[]})", "messages", "non-empty array"},
        BadCase{"MessagesObject", R"({"model":"m","messages":{"role":"user"}})", "messages",
                "non-empty array"},
        BadCase{"MessagesString", R"({"model":"m","messages":"hi"})", "messages",
                "non-empty array"},
        BadCase{"MessageNotObject", R"({"model":"m","messages":["hi"]})", "messages[0]",
                "string 'role'"},
        BadCase{"MessageWithoutRole", R"({"model":"m","messages":[{"content":"hi"}]})",
                "messages[0]", "string 'role'"},
        BadCase{"SecondMessageRoleNumber",
                R"({"model":"m","messages":[{"role":"user"},{"role":1,"content":"x"}]})",
                "messages[1]", "messages[1]"},
        BadCase{"ContentNumber", R"({"model":"m","messages":[{"role":"user","content":5}]})",
                "messages[0].content", "string or an array"},
        BadCase{"ContentObject",
                R"({"model":"m","messages":[{"role":"user","content":{"text":"x"}}]})",
                "messages[0].content", "string or an array"},
        BadCase{"ContentBool", R"({"model":"m","messages":[{"role":"user","content":true}]})",
                "messages[0].content", "string or an array"},
        BadCase{"StreamString", R"({"model":"m",)" MSGS R"(,"stream":"true"})", "stream",
                "boolean"},
        BadCase{"StreamNumber", R"({"model":"m",)" MSGS R"(,"stream":1})", "stream", "boolean"},
        BadCase{"StreamOptionsNotObject", R"({"model":"m",)" MSGS R"(,"stream_options":true})",
                "stream_options", "object"},
        BadCase{"IncludeUsageString",
                R"({"model":"m",)" MSGS R"(,"stream_options":{"include_usage":"yes"}})",
                "stream_options.include_usage", "boolean"},
        BadCase{"LogprobsString", R"({"model":"m",)" MSGS R"(,"logprobs":"true"})", "logprobs",
                "boolean"},
        BadCase{"MaxTokensNegative", R"({"model":"m",)" MSGS R"(,"max_tokens":-1})", "max_tokens",
                "non-negative integer"},
        BadCase{"MaxTokensFloat", R"({"model":"m",)" MSGS R"(,"max_tokens":1.5})", "max_tokens",
                "non-negative integer"},
        BadCase{"MaxTokensString", R"({"model":"m",)" MSGS R"(,"max_tokens":"10"})", "max_tokens",
                "non-negative integer"},
        BadCase{"MaxCompletionTokensNegative",
                R"({"model":"m",)" MSGS R"(,"max_completion_tokens":-5})", "max_completion_tokens",
                "non-negative integer"},
        BadCase{"NFloat", R"({"model":"m",)" MSGS R"(,"n":2.0})", "n", "non-negative integer"},
        BadCase{"TemperatureString", R"({"model":"m",)" MSGS R"(,"temperature":"0.5"})",
                "temperature", "number"}),
    [](const auto& info) { return std::string(info.param.name); });

#undef MSGS

// nlohmann throws out_of_range (not parse_error) for numbers a double cannot hold: still a 400.
TEST(ParseChatRequest, OverflowingNumbersAre400NotExceptions) {
  for (const char* body :
       {R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999})",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":-1e400})",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":[[1e999]]})"}) {
    std::variant<ChatRequest, http::OpenAiError> r;
    ASSERT_NO_THROW(r = parse_chat_request(body)) << body;
    const auto* e = error_of(r);
    ASSERT_TRUE(e) << body;
    EXPECT_EQ(e->status, 400u);
    EXPECT_EQ(e->code, "invalid_json");
  }
}

}  // namespace
}  // namespace gw::chat
