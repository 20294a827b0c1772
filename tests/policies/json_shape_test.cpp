#include "policies/json_shape.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gw::policies {
namespace {

struct JsonShapeCase {
  const char* name;
  std::string text;
  bool valid;
  JsonType top;
  std::vector<std::string> keys;
};

class JsonShapeTest : public ::testing::TestWithParam<JsonShapeCase> {};

TEST_P(JsonShapeTest, Reads) {
  const auto& c = GetParam();
  const JsonShape shape = json_shape(c.text);
  EXPECT_EQ(shape.valid, c.valid);
  if (c.valid) {
    EXPECT_EQ(shape.top, c.top);
    EXPECT_EQ(shape.keys, c.keys);
  }
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonShapeTest,
    ::testing::Values(
        JsonShapeCase{"object", R"({"ok":true})", true, JsonType::object, {"ok"}},
        JsonShapeCase{"keys_top_level_only",
                      R"({"a":{"b":1},"c":[{"d":2}]})",
                      true,
                      JsonType::object,
                      {"a", "c"}},
        JsonShapeCase{"whitespace_around", " \n{\"a\":1}\t ", true, JsonType::object, {"a"}},
        JsonShapeCase{"array", "[1,2]", true, JsonType::array, {}},
        JsonShapeCase{"string", R"("hi")", true, JsonType::string, {}},
        JsonShapeCase{"integer", "-3", true, JsonType::integer, {}},
        JsonShapeCase{"big_unsigned", "18446744073709551615", true, JsonType::integer, {}},
        JsonShapeCase{"number", "1.5e3", true, JsonType::number, {}},
        JsonShapeCase{"boolean", "false", true, JsonType::boolean, {}},
        JsonShapeCase{"null", "null", true, JsonType::null, {}},
        JsonShapeCase{"empty", "", false, JsonType::null, {}},
        JsonShapeCase{"blank", "   ", false, JsonType::null, {}},
        JsonShapeCase{"truncated", R"({"ok":tr)", false, JsonType::null, {}},
        JsonShapeCase{"trailing_garbage", R"({"ok":true} and more)", false, JsonType::null, {}},
        JsonShapeCase{"two_values", "{} {}", false, JsonType::null, {}},
        JsonShapeCase{"code_fence", "```json\n{\"ok\":true}\n```", false, JsonType::null, {}},
        JsonShapeCase{"single_quotes", "{'ok':true}", false, JsonType::null, {}},
        JsonShapeCase{"prose", "Sure! Here it is.", false, JsonType::null, {}},
        // Exactly at the depth limit is fine; one more level is not judged valid.
        JsonShapeCase{"depth_at_limit", nested(kMaxJudgedJsonDepth), true, JsonType::array, {}},
        JsonShapeCase{
            "depth_over_limit", nested(kMaxJudgedJsonDepth + 1), false, JsonType::null, {}},
        JsonShapeCase{"depth_far_over_limit", nested(200000), false, JsonType::null, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(JsonType, MatchesLikeJsonSchema) {
  EXPECT_TRUE(type_matches(JsonType::number, JsonType::integer));
  EXPECT_FALSE(type_matches(JsonType::integer, JsonType::number));
  EXPECT_TRUE(type_matches(JsonType::object, JsonType::object));
  EXPECT_FALSE(type_matches(JsonType::object, JsonType::array));
  EXPECT_EQ(to_string(JsonType::boolean), "boolean");
}

}  // namespace
}  // namespace gw::policies
