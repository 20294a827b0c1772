#include "gateway/api/passthrough_request.hpp"

#include <gtest/gtest.h>

#include "gateway/completion/upstream_body.hpp"

namespace gw::api {
namespace {

chat::ChatRequest ok(std::string_view body, const Endpoint& e) {
  auto r = parse_passthrough_request(body, e);
  if (auto* err = std::get_if<http::OpenAiError>(&r)) ADD_FAILURE() << err->message;
  return std::get<chat::ChatRequest>(r);
}

http::OpenAiError bad(std::string_view body, const Endpoint& e) {
  auto r = parse_passthrough_request(body, e);
  EXPECT_TRUE(std::holds_alternative<http::OpenAiError>(r)) << body;
  return std::holds_alternative<http::OpenAiError>(r) ? std::get<http::OpenAiError>(r)
                                                      : http::OpenAiError{};
}

TEST(PassthroughRequest, ReadsModelStreamAndUsageOption) {
  auto r = ok(R"({"model":"m","input":"hi","stream":true})", kResponses);
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.stream);
  auto c = ok(R"({"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":true}})",
              kCompletions);
  EXPECT_TRUE(c.include_usage);
}

TEST(PassthroughRequest, EmbeddingsNeverStream) {
  EXPECT_FALSE(ok(R"({"model":"m","input":"x","stream":true})", kEmbeddings).stream);
}

TEST(PassthroughRequest, RequiredFieldsAndTypes) {
  EXPECT_EQ(bad(R"({"model":"m"})", kEmbeddings).param, "input");
  EXPECT_EQ(bad(R"({"model":"m"})", kCompletions).param, "prompt");
  ok(R"({"model":"m","previous_response_id":"r"})", kResponses);  // input is optional there
  EXPECT_EQ(bad(R"({"input":"x"})", kResponses).param, "model");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","stream":"yes"})", kResponses).param, "stream");
  EXPECT_EQ(bad("[1]", kResponses).status, 400u);
  EXPECT_EQ(bad("{nope", kResponses).code, "invalid_json");
  EXPECT_EQ(bad(std::string(100, '[') + std::string(100, ']'), kResponses).code, "invalid_json");
}

TEST(PassthroughRequest, ResponsesBodyIsTheClientsBytesWithoutUsageEdits) {
  config::Model model;
  model.name = model.upstream_model = "m";
  const std::string body = R"({"input":"hi",  "model":"m","stream":true})";
  auto r = ok(body, kResponses);
  chat::StreamEdits edits;
  EXPECT_EQ(chat::direct_body(r, model, body, edits, kResponses.usage_on_request), body);
  EXPECT_FALSE(edits.any());
}

TEST(PassthroughRequest, CompletionsStreamAsksForUsageAndDropsIt) {
  config::Model model;
  model.name = model.upstream_model = "m";
  const std::string body = R"({"model":"m","prompt":"x","stream":true})";
  auto r = ok(body, kCompletions);
  chat::StreamEdits edits;
  auto sent = chat::direct_body(r, model, body, edits, kCompletions.usage_on_request);
  EXPECT_NE(sent.find(R"("include_usage":true)"), std::string::npos);
  EXPECT_TRUE(edits.drop_usage);
}

}  // namespace
}  // namespace gw::api
