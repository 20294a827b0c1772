#include "gateway/completion/upstream_body.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gw::chat {
namespace {

using nlohmann::json;

ChatRequest request(const std::string& body) {
  auto r = parse_chat_request(body);
  if (auto* e = std::get_if<http::OpenAiError>(&r)) {
    ADD_FAILURE() << "test body rejected: " << e->message;
    return {};
  }
  return std::get<ChatRequest>(std::move(r));
}

// With the whole tree built (parse_chat_request does not build one for a direct request).
ChatRequest loaded(const std::string& body) {
  ChatRequest r = request(body);
  load_json(r, body);
  return r;
}

// As the routed path has it: parsed for the routing alias (the tree without `messages`), then
// the client's bytes kept.
ChatRequest routed(const std::string& body) {
  auto r = parse_chat_request(body, "auto");
  if (auto* e = std::get_if<http::OpenAiError>(&r)) {
    ADD_FAILURE() << "test body rejected: " << e->message;
    return {};
  }
  ChatRequest request = std::get<ChatRequest>(std::move(r));
  keep_body(request, std::string(body));
  return request;
}

config::Model model(std::string name, std::string upstream_model) {
  config::Model m;
  m.name = std::move(name);
  m.upstream_model = std::move(upstream_model);
  return m;
}

// ---- direct_body ----

TEST(DirectBody, SameModelNoStreamIsClientBytes) {
  const std::string body =
      "{ \"model\" : \"small\",\n  \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
      "\"temperature\":0.50 }";
  StreamEdits edits;
  edits.drop_usage = true;  // reset by direct_body
  EXPECT_EQ(direct_body(request(body), model("small", "small"), body, edits), body);
  EXPECT_FALSE(edits.drop_usage);
}

// The direct path relays the client's bytes: no tree is built, before or after.
TEST(DirectBody, RelayedBodyBuildsNoTree) {
  const std::string body =
      R"({"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  ChatRequest r = request(body);
  EXPECT_TRUE(r.json.is_null());
  StreamEdits edits;
  (void)direct_body(r, model("small", "small"), body, edits);
  EXPECT_TRUE(r.json.is_null());
}

TEST(DirectBody, SameModelStreamWithUsageIsClientBytes) {
  const std::string body =
      R"({"model":"small","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";
  StreamEdits edits;
  EXPECT_EQ(direct_body(request(body), model("small", "small"), body, edits), body);
  EXPECT_FALSE(edits.drop_usage);
}

TEST(DirectBody, StreamWithoutStreamOptionsGetsIncludeUsageSpliced) {
  const std::string body =
      R"({"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}],"top_p":0.9})";
  StreamEdits edits;
  std::string out = direct_body(request(body), model("small", "small"), body, edits);
  EXPECT_TRUE(edits.drop_usage);
  // Spliced, not re-serialised: the client's bytes follow the inserted member.
  EXPECT_EQ(out, R"({"stream_options":{"include_usage":true},)" + body.substr(1));
  auto j = json::parse(out);
  auto expected = json::parse(body);
  expected["stream_options"] = {{"include_usage", true}};
  EXPECT_EQ(j, expected);
}

TEST(DirectBody, SpliceToleratesLeadingWhitespace) {
  const std::string body =
      "\n  "
      "{\"model\":\"small\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  StreamEdits edits;
  std::string out = direct_body(request(body), model("small", "small"), body, edits);
  auto j = json::parse(out);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  EXPECT_EQ(j["model"], "small");
}

TEST(DirectBody, StreamWithIncludeUsageFalseIsRewritten) {
  const std::string body =
      R"({"model":"small","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]})";
  StreamEdits edits;
  auto j = json::parse(direct_body(request(body), model("small", "small"), body, edits));
  EXPECT_TRUE(edits.drop_usage);
  EXPECT_EQ(j["stream_options"], json::parse(R"({"include_usage":true,"x":1})"));
  EXPECT_EQ(j["messages"], json::parse(body)["messages"]);
}

TEST(DirectBody, StreamWithNullStreamOptionsIsRewritten) {
  const std::string body =
      R"({"model":"small","stream":true,"stream_options":null,"messages":[{"role":"user","content":"hi"}]})";
  StreamEdits edits;
  auto j = json::parse(direct_body(request(body), model("small", "small"), body, edits));
  EXPECT_TRUE(edits.drop_usage);
  EXPECT_EQ(j["stream_options"], json::parse(R"({"include_usage":true})"));
}

TEST(DirectBody, DifferentUpstreamModelIsSubstituted) {
  const std::string body =
      R"({"model":"small","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"max_tokens":5})";
  StreamEdits edits;
  auto j = json::parse(direct_body(request(body), model("small", "qwen2.5:0.5b"), body, edits));
  EXPECT_FALSE(edits.drop_usage);
  auto expected = json::parse(body);
  expected["model"] = "qwen2.5:0.5b";
  EXPECT_EQ(j, expected);
}

TEST(DirectBody, DifferentUpstreamModelStreamAsksForUsage) {
  const std::string body =
      R"({"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  StreamEdits edits;
  auto j = json::parse(direct_body(request(body), model("small", "qwen2.5:0.5b"), body, edits));
  EXPECT_TRUE(edits.drop_usage);
  EXPECT_EQ(j["model"], "qwen2.5:0.5b");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
}

// ---- routed_body / routed_edits ----

const std::string kAuto =
    R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"temperature":0.3,"stream":true,"stream_options":{"include_usage":false}})";

TEST(RoutedBody, NonStreamLegWithLogprobs) {
  auto j = json::parse(routed_body(routed(kAuto), model("small", "qwen2.5:0.5b"),
                                   /*stream=*/false, /*want_logprobs=*/true)
                           .text());
  EXPECT_EQ(j["model"], "qwen2.5:0.5b");
  EXPECT_EQ(j["stream"], false);
  EXPECT_FALSE(j.contains("stream_options"));
  EXPECT_EQ(j["logprobs"], true);
  EXPECT_EQ(j["temperature"], 0.3);
  EXPECT_EQ(j["messages"], json::parse(kAuto)["messages"]);
}

TEST(RoutedBody, StreamLegAsksForUsage) {
  auto j = json::parse(routed_body(routed(kAuto), model("big", "big"), true, false).text());
  EXPECT_EQ(j["model"], "big");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  EXPECT_FALSE(j.contains("logprobs"));
}

TEST(RoutedBody, ClientLogprobsKept) {
  const std::string body =
      R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":2})";
  auto j = json::parse(routed_body(routed(body), model("big", "big"), false, false).text());
  EXPECT_EQ(j["logprobs"], true);
  EXPECT_EQ(j["top_logprobs"], 2);
}

TEST(RoutedBody, MessagesReplaced) {
  json messages =
      json::parse(R"([{"role":"system","content":"be brief"},{"role":"user","content":"hi"}])");
  auto j =
      json::parse(routed_body(routed(kAuto), model("big", "big"), false, false, &messages).text());
  EXPECT_EQ(j["messages"], messages);
}

// A routed leg's body is the client's bytes with the leg's members replaced: numbers and
// members the gateway does not set go upstream as sent; from a large body, borrowed, not copied.
TEST(RoutedBody, OtherMembersAreTheClientsBytes) {
  const std::string rag(20000, 'r');  // a large prompt: its bytes are borrowed
  const std::string body =
      "{ \"model\":\"auto\",\n \"messages\":[{\"role\":\"user\",\"content\":\"a}\\\"{[" + rag +
      "\"}],\"temperature\":0.50,\"metadata\":{\"k\":[1,{\"x\":\"}\"}]},\"stream\":true}";
  const ChatRequest request = routed(body);
  const http::OutgoingBody sent = routed_body(request, model("small", "small"), false, false);
  // messages, temperature and metadata are next to each other: one piece, then the brace.
  ASSERT_EQ(sent.borrowed.size(), 2u);
  EXPECT_EQ(sent.borrowed[0].data(), request.source.data() + request.source.find("\"messages\""));
  EXPECT_EQ(sent.borrowed[1], "}");
  const std::string out = sent.text();
  EXPECT_EQ(out.size(), sent.size());
  EXPECT_NE(out.find("\"temperature\":0.50"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("metadata":{"k":[1,{"x":"}"}]})"), std::string::npos) << out;
  auto j = json::parse(out);
  EXPECT_EQ(j["model"], "small");
  EXPECT_EQ(j["stream"], false);
  EXPECT_EQ(j["messages"], json::parse(body)["messages"]);
}

// A small body is copied into the leg's body: one piece, which owns its bytes.
TEST(RoutedBody, ASmallBodyIsCopied) {
  const http::OutgoingBody sent = routed_body(routed(kAuto), model("big", "big"), false, false);
  EXPECT_TRUE(sent.borrowed.empty());
  EXPECT_EQ(json::parse(sent.owned)["temperature"], 0.3);
}

// Spliced from the routed request's bytes, or re-serialised from a whole tree (a request without
// `source`), the upstream gets the same JSON; a routed body whose members cannot be spliced (a
// repeated or escaped key) is re-serialised with the messages read back from its bytes.
TEST(RoutedBody, SplicedEqualsReserialised) {
  const std::vector<std::string> bodies = {
      kAuto,
      R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":1})",
      R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false,"x":1}})",
      R"({"model":"auto","messages":[{"role":"user","content":"hi"}],"stream_options":null,"n":1})",
      R"({"model":"auto","model":"auto","messages":[{"role":"user","content":"hi"}],"temperature":1,"temperature":2})",
      R"({"mod\u0065l":"auto","messages":[{"role":"user","content":"\\\"}"}],"x\"y":1})",
      // The members kept run in three pieces, between the ones the leg sets.
      R"({"temperature":1,"model":"auto","n":1,"messages":[{"role":"user","content":"hi"}],"stream":false,"user":"u"})",
      // One body split over two lines: the missing comma is the point.
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma)
      "\n\t{ \"model\" : \"auto\" ,\"messages\" : [ {\"role\":\"user\",\"content\":\"hi\\\\\"} ] , "
      "\"e\":{} ,\"a\":[] }\n",
  };
  const json messages = json::parse(R"([{"role":"user","content":"again"}])");
  std::vector<std::string> all = bodies;
  for (std::string body : bodies) {  // and each as a large body, whose bytes the legs borrow
    if (auto at = body.find("hi"); at != std::string::npos) {
      all.push_back(body.replace(at, 2, std::string(20000, 'h')));
    }
  }
  for (const auto& body : all) {
    for (bool stream : {false, true}) {
      for (bool logprobs : {false, true}) {
        for (const json* m : {static_cast<const json*>(nullptr), &messages}) {
          const ChatRequest spliced = routed(body);
          ChatRequest tree_only = loaded(body);
          tree_only.source.clear();
          const auto cfg = model("small", "qwen2.5:0.5b");
          EXPECT_EQ(json::parse(routed_body(spliced, cfg, stream, logprobs, m, 2).text()),
                    json::parse(routed_body(tree_only, cfg, stream, logprobs, m, 2).text()))
              << body << " stream=" << stream << " logprobs=" << logprobs;
        }
      }
    }
  }
}

TEST(RoutedEdits, Table) {
  const std::string plain = R"({"model":"auto","messages":[{"role":"user","content":"hi"}]})";
  const std::string stream_no_usage =
      R"({"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  const std::string stream_usage_logprobs =
      R"({"model":"auto","stream":true,"stream_options":{"include_usage":true},"logprobs":true,"messages":[{"role":"user","content":"hi"}]})";

  auto e = routed_edits(routed(plain), model("small", "small"), false);
  EXPECT_FALSE(e.any());

  e = routed_edits(routed(plain), model("small", "qwen2.5:0.5b"), true);
  EXPECT_EQ(e.model, "small");
  EXPECT_TRUE(e.strip_logprobs);
  EXPECT_FALSE(e.drop_usage);

  e = routed_edits(routed(stream_no_usage), model("big", "big"), false);
  EXPECT_EQ(e.model, "");
  EXPECT_FALSE(e.strip_logprobs);
  EXPECT_TRUE(e.drop_usage);

  e = routed_edits(routed(stream_usage_logprobs), model("big", "big"), true);
  EXPECT_FALSE(e.strip_logprobs);  // the client asked for them
  EXPECT_FALSE(e.drop_usage);      // and for usage
}

// ---- last_user_text ----

TEST(LastUserText, Cases) {
  struct Case {
    const char* body;
    const char* expected;
  } cases[] = {
      {R"({"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"a"},
          {"role":"user","content":"second"},{"role":"assistant","content":"b"}]})",
       "second"},
      {R"({"messages":[{"role":"user","content":[{"type":"text","text":"look "},
          {"type":"image_url","image_url":{"url":"data:..."}},{"type":"text","text":"here"}]}]})",
       "look here"},
      {R"({"messages":[{"role":"system","content":"s"},{"role":"assistant","content":"a"}]})", ""},
      {R"({"messages":[{"role":"user"}]})", ""},
      {R"({"messages":[{"role":"user","content":null}]})", ""},
      {R"({"messages":"x"})", ""},
      {R"({})", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(last_user_text(json::parse(c.body)), c.expected) << c.body;
  }
}

}  // namespace
}  // namespace gw::chat
