// The checks chat and the passthrough endpoints share: one wording for both.
#include "gateway/http/request_checks.hpp"

#include <gtest/gtest.h>

#include <string>

#include "gateway/http/json_text.hpp"

namespace gw::http {
namespace {

TEST(RequestChecks, InvalidRequestIsA400AboutItsParam) {
  const OpenAiError e = invalid_request("'stream' must be a boolean", "stream");
  EXPECT_EQ(e.status, 400u);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.code, "invalid_request");
  EXPECT_EQ(e.param, "stream");
}

TEST(RequestChecks, NestingTooDeepOnlyPastTheLimit) {
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_FALSE(nesting_too_deep(nested(kMaxJsonDepth)).has_value());
  const auto err = nesting_too_deep(nested(kMaxJsonDepth + 1));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->status, 400u);
  EXPECT_EQ(err->code, "invalid_json");
  EXPECT_EQ(err->message,
            "request body nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
}

TEST(RequestChecks, RequestedModelMustBeANonEmptyString) {
  EXPECT_EQ(std::get<std::string>(requested_model(nlohmann::json{{"model", "small"}})), "small");

  const auto missing = requested_model(nlohmann::json::object());
  ASSERT_TRUE(std::holds_alternative<OpenAiError>(missing));
  EXPECT_EQ(std::get<OpenAiError>(missing).message, "you must provide a model parameter");
  EXPECT_EQ(std::get<OpenAiError>(missing).param, "model");

  for (const auto& bad : {nlohmann::json{{"model", ""}}, nlohmann::json{{"model", 7}}}) {
    const auto r = requested_model(bad);
    ASSERT_TRUE(std::holds_alternative<OpenAiError>(r)) << bad.dump();
    EXPECT_EQ(std::get<OpenAiError>(r).message, "'model' must be a non-empty string");
  }
}

TEST(RequestChecks, StreamFlagsAsSentNullIsAbsent) {
  using nlohmann::json;
  const auto flags = [](const json& body) { return std::get<StreamFlags>(stream_flags(body)); };
  EXPECT_FALSE(flags(json::object()).stream);
  EXPECT_FALSE(flags(json{{"stream", nullptr}, {"stream_options", nullptr}}).include_usage);
  const StreamFlags both =
      flags(json{{"stream", true}, {"stream_options", {{"include_usage", true}}}});
  EXPECT_TRUE(both.stream);
  EXPECT_TRUE(both.include_usage);
}

TEST(RequestChecks, StreamFlagsNamesTheFieldThatIsNotABoolean) {
  using nlohmann::json;
  const auto param = [](const json& body) {
    return std::get<OpenAiError>(stream_flags(body)).param.value_or("");
  };
  EXPECT_EQ(param(json{{"stream", "yes"}}), "stream");
  EXPECT_EQ(param(json{{"stream_options", 1}}), "stream_options");
  EXPECT_EQ(param(json{{"stream_options", {{"include_usage", 1}}}}),
            "stream_options.include_usage");
}

}  // namespace
}  // namespace gw::http
