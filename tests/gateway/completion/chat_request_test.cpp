#include "gateway/completion/chat_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/http/request_checks.hpp"
#include "policies/prompt.hpp"

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
  EXPECT_FALSE(req->has_stream_options);
  // Validated and read without a tree; load_json builds it from the same bytes on demand.
  EXPECT_TRUE(req->json.is_null());
}

TEST(ParseChatRequest, LoadJsonBuildsTheTreeOnce) {
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"n":1,"t":-2,"f":1.5,"o":{"a":[null,true]}})";
  auto r = parse_chat_request(body);
  auto* req = std::get_if<ChatRequest>(&r);
  ASSERT_TRUE(req);
  const auto& tree = load_json(*req, body);
  EXPECT_EQ(tree, nlohmann::json::parse(body));
  EXPECT_TRUE(tree["n"].is_number_unsigned());  // as nlohmann reads it
  EXPECT_TRUE(tree["t"].is_number_integer());
  EXPECT_EQ(&load_json(*req, "ignored once built"), &req->json);
}

// The routed path reads the tree: a body naming the routing alias gets it from the same parse,
// without `messages` (their text counted instead, the bytes kept for the legs); a body naming
// another model does not pay for one.
TEST(ParseChatRequest, TheRoutedModelsTreeComesFromTheSameParse) {
  const std::string body =
      R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"n":1,"o":{"a":[null,1.5]}})";
  nlohmann::json whole = nlohmann::json::parse(body);
  auto routed = parse_chat_request(body, "auto");
  auto* req = std::get_if<ChatRequest>(&routed);
  ASSERT_TRUE(req);
  nlohmann::json members = whole;
  members.erase("messages");
  EXPECT_EQ(req->json, members);
  EXPECT_EQ(req->prompt_chars, 2u);
  // The bytes the routed legs splice: the body itself, moved in once the route is known; the
  // messages are read from them when asked for.
  EXPECT_TRUE(req->source.empty());
  std::string kept = body;
  keep_body(*req, std::move(kept));
  EXPECT_EQ(req->source, body);
  EXPECT_EQ(req->json, members);
  nlohmann::json holder;
  EXPECT_EQ(messages_of(*req, holder), whole["messages"]);
  EXPECT_EQ(&messages_of(*req, holder), &holder);
  // load_json completes the tree.
  EXPECT_EQ(load_json(*req, body), whole);
  EXPECT_EQ(&messages_of(*req, holder), &req->json["messages"]);

  auto direct = parse_chat_request(body, "other-alias");
  ASSERT_TRUE(std::get_if<ChatRequest>(&direct));
  EXPECT_TRUE(std::get<ChatRequest>(direct).json.is_null());
  EXPECT_FALSE(std::get<ChatRequest>(direct).prompt_chars);
  EXPECT_TRUE(std::get<ChatRequest>(direct).source.empty());
  // keep_body builds a tree not built yet, messages included.
  std::string again = body;
  keep_body(std::get<ChatRequest>(direct), std::move(again));
  EXPECT_EQ(std::get<ChatRequest>(direct).json, whole);
  EXPECT_EQ(std::get<ChatRequest>(direct).source, body);
}

// The routed parse counts the prompt as policies::prompt_stats counts it on the tree, and its
// messages read back from the bytes are the tree's, whatever the body's shape.
TEST(ParseChatRequest, TheRoutedCountAndMessagesAreTheTreesOnes) {
  const std::vector<std::string> bodies = {
      R"({"model":"auto","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"h\u00e9llo \ud83d\ude00"}]})",
      R"({"model":"auto","messages":[{"role":"assistant","content":"not counted"},{"role":"tool","content":"nor this"},{"role":"developer","content":"dev"}]})",
      R"({"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"one"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"two"},{"text":"no type"},{"type":"text"},"odd",{"type":"text","text":5}]}]})",
      R"({"model":"auto","messages":[{"role":"user","content":null},{"role":"user"},{"role":"user","content":"x","content":"last wins"},{"role":"assistant","role":"user","content":"counted"}]})",
      R"({"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"bb","type":"text"}]}]})",
      // Repeated top-level keys: the bytes cannot be split into members; the tree keeps the last.
      R"({"model":"auto","messages":[{"role":"user","content":"first"}],"messages":[{"role":"user","content":"second one"}]})",
      " {\"model\" : \"auto\" ,\n\"messages\" :\t[ {\"role\":\"user\",\"content\":\"sp\"} ] } ",
  };
  for (const auto& body : bodies) {
    const nlohmann::json whole = nlohmann::json::parse(body);
    auto parsed = parse_chat_request(body, "auto");
    auto* req = std::get_if<ChatRequest>(&parsed);
    ASSERT_TRUE(req) << body << ": " << error_of(parsed)->message;
    EXPECT_EQ(req->prompt_chars, policies::prompt_stats(whole["messages"]).chars) << body;
    keep_body(*req, std::string(body));
    nlohmann::json holder;
    EXPECT_EQ(messages_of(*req, holder), whole["messages"]) << body;
  }
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

// The reader before simdjson, verbatim: every body must get the same verdict, fields and error
// wording from parse_chat_request as from this.
std::variant<ChatRequest, http::OpenAiError> reference_parse(std::string_view body) {
  auto reason_of = [](const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return what;
  };
  try {
    ChatRequest r;
    if (auto err = http::nesting_too_deep(body)) return *err;
    r.json = nlohmann::json::parse(body);
    if (!r.json.is_object()) return http::invalid_request("request body must be a JSON object", "");
    const auto& j = r.json;
    auto model = http::requested_model(j);
    if (auto* err = std::get_if<http::OpenAiError>(&model)) return *err;
    r.model = std::get<std::string>(std::move(model));
    auto messages = j.find("messages");
    if (messages == j.end())
      return http::invalid_request("'messages' is a required property", "messages");
    if (!messages->is_array() || messages->empty()) {
      return http::invalid_request("'messages' must be a non-empty array", "messages");
    }
    for (std::size_t i = 0; i < messages->size(); ++i) {
      const auto& m = (*messages)[i];
      auto role = m.is_object() ? m.find("role") : m.end();
      if (!m.is_object() || role == m.end() || !role->is_string()) {
        return http::invalid_request(
            "messages[" + std::to_string(i) + "] must be an object with a string 'role'",
            "messages[" + std::to_string(i) + "]");
      }
      auto content = m.find("content");
      if (content != m.end() && !content->is_string() && !content->is_array() &&
          !content->is_null()) {
        return http::invalid_request(
            "messages[" + std::to_string(i) + "].content must be a string or an array",
            "messages[" + std::to_string(i) + "].content");
      }
    }
    auto flags = http::stream_flags(j);
    if (auto* err = std::get_if<http::OpenAiError>(&flags)) return *err;
    r.stream = std::get<http::StreamFlags>(flags).stream;
    r.include_usage = std::get<http::StreamFlags>(flags).include_usage;
    if (auto lp = j.find("logprobs"); lp != j.end() && !lp->is_null()) {
      if (!lp->is_boolean())
        return http::invalid_request("'logprobs' must be a boolean", "logprobs");
      r.logprobs = lp->get<bool>();
    }
    for (const char* key : {"max_tokens", "max_completion_tokens", "n"}) {
      if (auto v = j.find(key); v != j.end() && !v->is_null() && !v->is_number_unsigned()) {
        return http::invalid_request(std::string("'") + key + "' must be a non-negative integer",
                                     key);
      }
    }
    if (auto t = j.find("temperature"); t != j.end() && !t->is_null() && !t->is_number()) {
      return http::invalid_request("'temperature' must be a number", "temperature");
    }
    return r;
  } catch (const nlohmann::json::parse_error& e) {
    return http::make_error(400, "request body is not valid JSON: " + reason_of(e), "invalid_json");
  } catch (const nlohmann::json::exception& e) {
    return http::make_error(400, "request body is not usable JSON: " + reason_of(e),
                            "invalid_json");
  }
}

void expect_same_as_reference(const std::string& body) {
  SCOPED_TRACE(body);
  auto got = parse_chat_request(body);
  auto want = reference_parse(body);
  ASSERT_EQ(got.index(), want.index())
      << (error_of(got) ? error_of(got)->message : "accepted") << " vs "
      << (error_of(want) ? error_of(want)->message : "accepted");
  if (const auto* e = error_of(got)) {
    EXPECT_EQ(e->body(), error_of(want)->body());  // the bytes the client gets
    EXPECT_EQ(e->status, error_of(want)->status);
    return;
  }
  auto& g = std::get<ChatRequest>(got);
  const auto& w = std::get<ChatRequest>(want);
  EXPECT_EQ(g.model, w.model);
  EXPECT_EQ(g.stream, w.stream);
  EXPECT_EQ(g.include_usage, w.include_usage);
  EXPECT_EQ(g.logprobs, w.logprobs);
  EXPECT_EQ(g.has_stream_options, w.json.contains("stream_options"));
  EXPECT_EQ(load_json(g, body).dump(), w.json.dump());
}

// Bodies where two JSON readers could part: repeated keys (the last one counts), "-0" against
// "0" for counts, integers beyond 64 bits, a byte-order mark, escapes in keys, broken UTF-8 and
// surrogates, trailing bytes, and every rejected shape above.
TEST(ParseChatRequest, SameVerdictAndWordingAsTheTreeReader) {
  const std::string ok = R"("messages":[{"role":"user","content":"hi"}])";
  std::vector<std::string> bodies = {
      R"({"model":"m",)" + ok + "}",
      R"({"model":5,"model":"m",)" + ok + "}",
      R"({"model":"m","model":"",)" + ok + "}",
      R"({"model":"m","messages":[],"messages":[{"role":"user"}]})",
      R"({"model":"m","messages":[{"role":"user"}],"messages":"x"})",
      R"({"model":"m","messages":[{"role":1,"role":"user","content":5,"content":"x"}]})",
      R"({"model":"m","messages":[{"role":"user","role":2}]})",
      R"({"model":"m","messages":[{"role":"user"},{"role":"user","content":{}}]})",
      R"({"mod\u0065l":"m",)" + ok + "}",
      R"({"model":"\u006d",)" + ok + "}",
      R"({"model":"m",)" + ok + R"(,"max_tokens":0})",
      R"({"model":"m",)" + ok + R"(,"max_tokens":-0})",
      R"({"model":"m",)" + ok + R"(,"n":-0,"n":1})",
      R"({"model":"m",)" + ok + R"(,"max_completion_tokens":-0.0})",
      R"({"model":"m",)" + ok + R"(,"temperature":-0})",
      R"({"model":"m",)" + ok + R"(,"max_tokens":18446744073709551615})",
      R"({"model":"m",)" + ok + R"(,"max_tokens":18446744073709551616})",
      R"({"model":"m",)" + ok + R"(,"max_tokens":-9223372036854775809})",
      R"({"model":"m",)" + ok + R"(,"x":123456789012345678901234567890})",
      R"({"model":"m",)" + ok + R"(,"temperature":1e308,"x":1e-400})",
      R"({"model":"m",)" + ok + R"(,"x":1e999})",
      "\xEF\xBB\xBF"
      R"({"model":"m",)" +
          ok + "}",
      R"({"model":"m",)" + ok + R"(,"x":"\ud800"})",
      R"({"model":"m",)" + ok + R"(,"x":"\ud83d\ude00"})",
      R"({"model":"m",)" + ok + ",\"x\":\"\xff\"}",
      R"({"model":"m",)" + ok + ",\"x\":\"\xed\xa0\x80\"}",
      R"({"model":"m",)" + ok + ",\"x\":\"\x01\"}",
      R"({"model":"m",)" + ok + "} x",
      R"({"model":"m",)" + ok + "}\n\t ",
      std::string(R"({"model":"m",)") + ok + "}" + std::string(1, '\0'),
      R"({"model":"m",)" + ok + R"(,"stream":true,"stream_options":null})",
      R"({"model":"m",)" + ok + R"(,"stream":null,"stream_options":{}})",
      R"({"model":"m",)" + ok + R"(,"stream_options":{"include_usage":"x","include_usage":true}})",
      R"({"model":"m",)" + ok + R"(,"stream":"x","stream":true,"logprobs":false})",
      R"({"model":"m",)" + ok + R"(,"stream":1,"temperature":"x"})",
      R"({"model":"m",)" + ok +
          R"(,"tools":[{"type":"function"}],"response_format":{"type":"json_object"}})",
      "",
      " ",
      "{}",
      "[]",
      "null",
      "1",
      "\"s\"",
      "{",
      R"({"model":"m",})",
      "\n{\n\"model\": [}\n",
  };
  for (const char* body : {"[1,2]", "\"hi\"", "null"}) bodies.emplace_back(body);
  for (int depth : {63, 64, 65}) {  // the depth limit, counted alike (the body is 1 level)
    bodies.push_back(R"({"model":"m",)" + ok + R"(,"x":)" + std::string(depth - 1, '[') +
                     std::string(depth - 1, ']') + "}");
    bodies.push_back(R"({"model":"m",)" + ok + R"(,"x":)" + std::string(depth - 1, '[') + "}");
  }
  for (const auto& body : bodies) expect_same_as_reference(body);
}

}  // namespace
}  // namespace gw::chat
