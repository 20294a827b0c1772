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

}  // namespace
}  // namespace gw::http
