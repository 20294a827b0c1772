#include "gateway/http/openai_error.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gw::http {
namespace {

using nlohmann::json;

json error_of(const OpenAiError& e) {
  json j = json::parse(e.body());
  EXPECT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 1u) << j.dump();
  return j.at("error");
}

TEST(OpenAiError, BodyHasExactlyTheFourMembers) {
  auto e = error_of(OpenAiError{400, "bad thing", "invalid_request_error", "model", "bad_model"});
  EXPECT_EQ(e, json::parse(R"({"message":"bad thing","type":"invalid_request_error",
                               "param":"model","code":"bad_model"})"));
}

TEST(OpenAiError, AbsentParamAndCodeAreNull) {
  auto e = error_of(OpenAiError{500, "m", "upstream_error", std::nullopt, std::nullopt});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_TRUE(e.at("param").is_null());
  EXPECT_TRUE(e.at("code").is_null());
  EXPECT_EQ(e.at("message"), "m");
  EXPECT_EQ(e.at("type"), "upstream_error");
}

TEST(OpenAiError, BodyEscapesAndSurvivesInvalidUtf8) {
  auto e = error_of(OpenAiError{400, "quote \" backslash \\ newline \n", "t", {}, {}});
  EXPECT_EQ(e.at("message"), "quote \" backslash \\ newline \n");
  // Invalid UTF-8 must not make body() throw or emit invalid JSON.
  OpenAiError bad{400, std::string("x\xff\xfey"), "t", {}, {}};
  EXPECT_NO_THROW(error_of(bad));
}

struct StatusType {
  unsigned status;
  const char* type;
};

class ErrorTypeForStatus : public testing::TestWithParam<StatusType> {};

TEST_P(ErrorTypeForStatus, Maps) {
  EXPECT_EQ(error_type_for_status(GetParam().status), GetParam().type);
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, ErrorTypeForStatus,
    testing::Values(StatusType{400, "invalid_request_error"},
                    StatusType{401, "authentication_error"}, StatusType{403, "permission_error"},
                    StatusType{404, "invalid_request_error"},
                    StatusType{405, "invalid_request_error"}, StatusType{408, "timeout_error"},
                    StatusType{413, "invalid_request_error"},
                    StatusType{415, "invalid_request_error"},
                    StatusType{422, "invalid_request_error"}, StatusType{429, "rate_limit_error"},
                    StatusType{431, "invalid_request_error"}, StatusType{500, "upstream_error"},
                    StatusType{502, "upstream_error"}, StatusType{503, "service_unavailable_error"},
                    StatusType{504, "timeout_error"}),
    [](const auto& info) { return std::to_string(info.param.status); });

TEST(MakeError, FillsTypeFromStatus) {
  auto e = make_error(404, "The model `x` does not exist", "model_not_found", "model");
  EXPECT_EQ(e.status, 404u);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_EQ(e.param, "model");
  auto bare = make_error(429, "slow down");
  EXPECT_FALSE(bare.code);
  EXPECT_FALSE(bare.param);
  EXPECT_EQ(bare.type, "rate_limit_error");
}

TEST(WrapUpstreamError, KeepsOpenAiErrorObject) {
  auto e = wrap_upstream_error(
      429,
      R"({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
      "gpt");
  EXPECT_EQ(e.status, 429u);
  EXPECT_EQ(e.message, "Rate limit reached");
  EXPECT_EQ(e.type, "requests");  // the upstream's own type is kept
  EXPECT_EQ(e.code, "rate_limit_exceeded");
  EXPECT_FALSE(e.param);
}

TEST(WrapUpstreamError, OpenAiObjectMissingFieldsGetDefaults) {
  auto e = wrap_upstream_error(400, R"({"error":{"param":"messages"}})", "m");
  EXPECT_EQ(e.message, "upstream error");
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "messages");
  EXPECT_FALSE(e.code);
}

TEST(WrapUpstreamError, NonStringCodeIsSerialised) {
  // vLLM sends a numeric code.
  auto e = wrap_upstream_error(
      400, R"({"error":{"message":"m","type":"BadRequestError","code":400}})", "m");
  EXPECT_EQ(e.code, "400");
  EXPECT_EQ(e.type, "BadRequestError");
}

TEST(WrapUpstreamError, OllamaStringError) {
  auto e = wrap_upstream_error(404, R"({"error":"model \"llama9\" not found"})", "llama9");
  EXPECT_EQ(e.status, 404u);
  EXPECT_EQ(e.message, "model \"llama9\" not found");
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.code, "upstream_error");
}

TEST(WrapUpstreamError, HtmlBodyWrappedWithStatusAndModel) {
  auto e = wrap_upstream_error(502, "<html><body>Bad Gateway</body></html>", "big");
  EXPECT_EQ(e.status, 502u);
  EXPECT_EQ(e.message, "upstream big returned HTTP 502: <html><body>Bad Gateway</body></html>");
  EXPECT_EQ(e.type, "upstream_error");
  EXPECT_EQ(e.code, "upstream_error");
  EXPECT_NO_THROW(error_of(e));
}

TEST(WrapUpstreamError, JsonWithoutErrorMemberIsWrapped) {
  auto e = wrap_upstream_error(404, R"({"detail":"Not Found"})", "m");
  EXPECT_EQ(e.message, R"(upstream m returned HTTP 404: {"detail":"Not Found"})");
}

TEST(WrapUpstreamError, LongBodyTruncated) {
  const std::string prefix = "upstream big returned HTTP 503: ";
  std::string html = "<html>" + std::string(10000, 'x') + "</html>";
  auto e = wrap_upstream_error(503, html, "big");
  ASSERT_EQ(e.message.substr(0, prefix.size()), prefix);
  EXPECT_EQ(e.message.size(), prefix.size() + 512);
  EXPECT_EQ(e.message.substr(prefix.size()), html.substr(0, 512));
  EXPECT_EQ(e.type, "service_unavailable_error");
  EXPECT_LT(e.body().size(), 1024u);
}

TEST(WrapUpstreamError, TruncationInsideUtf8CharStillYieldsValidJson) {
  std::string body = std::string(511, 'a') + "\xc3\xa9 more";  // 'é' straddles byte 512
  auto e = wrap_upstream_error(500, body, "m");
  EXPECT_NO_THROW(error_of(e));
}

TEST(WrapUpstreamError, EmptyBody) {
  auto e = wrap_upstream_error(500, "", "m");
  EXPECT_EQ(e.status, 500u);
  EXPECT_EQ(e.message, "upstream m returned HTTP 500: no body");
  EXPECT_EQ(e.code, "upstream_error");
}

// Issue 9: a message nested 60,000 deep was re-serialised recursively (SIGSEGV).
TEST(WrapUpstreamError, DeeplyNestedMessageIsNotReserialised) {
  const int kDepth = 60000;
  std::string body = R"({"error":{"message":)" + std::string(kDepth, '[') +
                     std::string(kDepth, ']') + R"(,"type":"deep"}})";
  auto e = wrap_upstream_error(500, body, "m");
  EXPECT_EQ(e.status, 500u);
  EXPECT_EQ(e.code, "upstream_error");  // not read as JSON: wrapped, clipped
  EXPECT_LT(e.body().size(), 1024u);
  EXPECT_NO_THROW(error_of(e));
}

TEST(WrapUpstreamError, NestedMessageWithinTheLimitIsIgnoredNotSerialised) {
  auto e = wrap_upstream_error(500, R"({"error":{"message":[[1,{"a":2}]],"type":"odd"}})", "m");
  EXPECT_EQ(e.message, "upstream error");
  EXPECT_EQ(e.type, "odd");
}

TEST(ModelNotFound, IsA404NamingTheModel) {
  const OpenAiError e = model_not_found("gpt-9");
  EXPECT_EQ(e.status, 404u);
  EXPECT_EQ(e.message, "The model 'gpt-9' does not exist or is not served by this gateway");
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_EQ(e.param, "model");
}

}  // namespace
}  // namespace gw::http
