#include "gateway/http/error_fields.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::http {
namespace {

TEST(ReadErrorFields, OpenAiErrorObject) {
  auto f = read_error_fields(
      R"({"error":{"message":"Rate limit","type":"requests","param":null,"code":429}})");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->error_object);
  EXPECT_EQ(f->message, "Rate limit");
  EXPECT_EQ(f->type, "requests");
  EXPECT_FALSE(f->param);
  EXPECT_EQ(f->code, "429");
  EXPECT_FALSE(f->text);
}

TEST(ReadErrorFields, StringError) {
  auto f = read_error_fields(R"({"detail":{"message":"no"},"error":"model not found"})");
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->error_object);
  EXPECT_EQ(f->text, "model not found");
  EXPECT_FALSE(f->message);  // "message" under another member is not the error's
}

TEST(ReadErrorFields, FieldsOfNestedObjectsAreNotTheErrorsFields) {
  auto f = read_error_fields(
      R"({"error":{"details":{"message":"inner","type":"t2"},"message":"outer"}})");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->message, "outer");
  EXPECT_FALSE(f->type);
}

TEST(ReadErrorFields, NotAnErrorBody) {
  EXPECT_FALSE(read_error_fields(""));
  EXPECT_FALSE(read_error_fields("<html>oops</html>"));
  EXPECT_FALSE(read_error_fields(R"({"detail":"Not Found"})"));
  EXPECT_FALSE(read_error_fields(R"({"error":null})"));
  EXPECT_FALSE(read_error_fields(R"({"error":[1,2]})"));
  EXPECT_FALSE(read_error_fields(R"({"error":{"message":"x"}} trailing)"));
  EXPECT_FALSE(read_error_fields(R"(["error"])"));
}

TEST(ReadErrorFields, DepthIsBounded) {
  // Within the limit: read. Past it: not JSON to us (and no recursion, no tree, any depth).
  std::string ok =
      R"({"error":{"message":"m","x":)" + std::string(20, '[') + std::string(20, ']') + "}}";
  EXPECT_TRUE(read_error_fields(ok));
  for (int depth : {33, 1000, 200000}) {
    std::string deep = R"({"error":{"message":"m","x":)" + std::string(depth, '[') +
                       std::string(depth, ']') + "}}";
    EXPECT_FALSE(read_error_fields(deep)) << depth;
  }
}

}  // namespace
}  // namespace gw::http
