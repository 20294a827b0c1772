#include "policies/structured_output.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gw::policies {
namespace {

ResponseFormat format_of(const char* response_format) {
  return requested_output(
             nlohmann::json::parse(std::string(R"({"response_format":)") + response_format + "}"))
      .format;
}

struct StructuredOutputCase {
  const char* name;
  const char* response_format;
  std::string text;
  std::optional<StructuredProblem> expected;
};

class StructuredOutputTest : public ::testing::TestWithParam<StructuredOutputCase> {};

TEST_P(StructuredOutputTest, Checks) {
  const auto& c = GetParam();
  EXPECT_EQ(structured_output_problem(format_of(c.response_format), c.text), c.expected);
}

constexpr const char* kTextFormat = R"({"type":"text"})";
constexpr const char* kObject = R"({"type":"json_object"})";
constexpr const char* kOk =
    R"({"type":"json_schema","json_schema":{"name":"ok","schema":{"type":"object",
       "properties":{"ok":{"type":"boolean"},"why":{"type":"string"}},"required":["ok","why"]}}})";
constexpr const char* kNoType =
    R"({"type":"json_schema","json_schema":{"schema":{"required":["ok"]}}})";
constexpr const char* kNumber =
    R"({"type":"json_schema","json_schema":{"schema":{"type":"number"}}})";
constexpr const char* kObjectOrNull =
    R"({"type":"json_schema","json_schema":{"schema":{"type":["object","null"]}}})";

constexpr auto kNotJson = StructuredProblem::not_json;
constexpr auto kWrongType = StructuredProblem::wrong_type;
constexpr auto kMissing = StructuredProblem::missing_required;

INSTANTIATE_TEST_SUITE_P(
    Table, StructuredOutputTest,
    ::testing::Values(
        StructuredOutputCase{"text_format_never_checked", kTextFormat, "not json", std::nullopt},
        StructuredOutputCase{"json_object_valid", kObject, R"({"ok":true})", std::nullopt},
        StructuredOutputCase{"json_object_any_valid_value", kObject, "[1]", std::nullopt},
        StructuredOutputCase{"json_object_prose", kObject, "Sure, here you go", kNotJson},
        StructuredOutputCase{"json_object_truncated", kObject, R"({"ok":tr)", kNotJson},
        StructuredOutputCase{"json_object_fenced", kObject, "```json\n{}\n```", kNotJson},
        StructuredOutputCase{"schema_all_required", kOk, R"({"ok":true,"why":"x"})", std::nullopt},
        // One required property short is the boundary.
        StructuredOutputCase{"schema_one_required_missing", kOk, R"({"ok":true})", kMissing},
        StructuredOutputCase{"schema_required_nested_only", kOk, R"({"r":{"ok":true,"why":"x"}})",
                             kMissing},
        StructuredOutputCase{"schema_wrong_top_type", kOk, R"([{"ok":true,"why":"x"}])",
                             kWrongType},
        StructuredOutputCase{"schema_invalid_json", kOk, R"({"ok":true,)", kNotJson},
        StructuredOutputCase{"schema_no_type_object", kNoType, R"({"ok":1})", std::nullopt},
        StructuredOutputCase{"schema_no_type_missing", kNoType, R"({"no":1})", kMissing},
        StructuredOutputCase{"schema_no_type_required_ignores_non_object", kNoType, "3",
                             std::nullopt},
        StructuredOutputCase{"schema_number_accepts_integer", kNumber, "3", std::nullopt},
        StructuredOutputCase{"schema_number_rejects_string", kNumber, R"("3")", kWrongType},
        StructuredOutputCase{"schema_type_list_second", kObjectOrNull, "null", std::nullopt},
        StructuredOutputCase{"schema_type_list_none", kObjectOrNull, "true", kWrongType}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gw::policies
