#include "policies/json_shape.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gw::policies {
namespace {

struct Case {
  const char* name;
  std::string text;
  bool valid;
  JsonType top;
  std::vector<std::string> keys;
};

class JsonShapeTest : public ::testing::TestWithParam<Case> {};

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
        Case{"object", R"({"ok":true})", true, JsonType::object, {"ok"}},
        Case{"keys_top_level_only",
             R"({"a":{"b":1},"c":[{"d":2}]})",
             true,
             JsonType::object,
             {"a", "c"}},
        Case{"whitespace_around", " \n{\"a\":1}\t ", true, JsonType::object, {"a"}},
        Case{"array", "[1,2]", true, JsonType::array, {}},
        Case{"string", R"("hi")", true, JsonType::string, {}},
        Case{"integer", "-3", true, JsonType::integer, {}},
        Case{"big_unsigned", "18446744073709551615", true, JsonType::integer, {}},
        Case{"number", "1.5e3", true, JsonType::number, {}},
        Case{"boolean", "false", true, JsonType::boolean, {}},
        Case{"null", "null", true, JsonType::null, {}},
        Case{"empty", "", false, JsonType::null, {}},
        Case{"blank", "   ", false, JsonType::null, {}},
        Case{"truncated", R"({"ok":tr)", false, JsonType::null, {}},
        Case{"trailing_garbage", R"({"ok":true} and more)", false, JsonType::null, {}},
        Case{"two_values", "{} {}", false, JsonType::null, {}},
        Case{"code_fence", "```json\n{\"ok\":true}\n```", false, JsonType::null, {}},
        Case{"single_quotes", "{'ok':true}", false, JsonType::null, {}},
        Case{"prose", "Sure! Here it is.", false, JsonType::null, {}},
        // Exactly at the depth limit is fine; one more level is not judged valid.
        Case{"depth_at_limit", nested(kMaxJudgedJsonDepth), true, JsonType::array, {}},
        Case{"depth_over_limit", nested(kMaxJudgedJsonDepth + 1), false, JsonType::null, {}},
        Case{"depth_far_over_limit", nested(200000), false, JsonType::null, {}}),
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
