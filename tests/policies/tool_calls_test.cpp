#include "policies/tool_calls.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gw::policies {
namespace {

const RequestedOutput& offered() {
  static const RequestedOutput r = requested_output(nlohmann::json::parse(R"({"tools":[
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"city":{},"unit":{}},"required":["city","unit"]}}},
    {"type":"function","function":{"name":"now","parameters":{"type":"object"}}},
    {"type":"custom","custom":{"name":"shell"}}]})"));
  return r;
}

struct ToolCallsCase {
  const char* name;
  std::string function;
  std::string arguments;
  bool is_function;
  std::optional<ToolCallProblem> expected;
};

class ToolCallTest : public ::testing::TestWithParam<ToolCallsCase> {};

TEST_P(ToolCallTest, Checks) {
  const auto& c = GetParam();
  EXPECT_EQ(tool_call_problem(offered(), {c.function, c.arguments, c.is_function}), c.expected);
}

constexpr auto kUnknown = ToolCallProblem::unknown_function;
constexpr auto kNotObject = ToolCallProblem::arguments_not_object;
constexpr auto kArgumentMissing = ToolCallProblem::missing_required;

INSTANTIATE_TEST_SUITE_P(
    Table, ToolCallTest,
    ::testing::Values(
        ToolCallsCase{"all_required", "get_weather", R"({"city":"Oslo","unit":"C"})", true,
                      std::nullopt},
        ToolCallsCase{"required_plus_extra", "get_weather", R"({"unit":"C","city":"Oslo","x":1})",
                      true, std::nullopt},
        // One required parameter short is the boundary.
        ToolCallsCase{"one_required_missing", "get_weather", R"({"city":"Oslo"})", true,
                      kArgumentMissing},
        ToolCallsCase{"required_only_nested", "get_weather", R"({"q":{"city":"Oslo","unit":"C"}})",
                      true, kArgumentMissing},
        ToolCallsCase{"no_required_empty_object", "now", "{}", true, std::nullopt},
        ToolCallsCase{"no_required_blank_arguments", "now", "", true, std::nullopt},
        ToolCallsCase{"required_blank_arguments", "get_weather", " ", true, kArgumentMissing},
        ToolCallsCase{"arguments_array", "now", "[]", true, kNotObject},
        ToolCallsCase{"arguments_string", "now", R"("{}")", true, kNotObject},
        ToolCallsCase{"arguments_truncated", "get_weather", R"({"city":"Os)", true, kNotObject},
        ToolCallsCase{"arguments_prose", "now", "call it now", true, kNotObject},
        ToolCallsCase{"unknown_name", "get_wether", "{}", true, kUnknown},
        ToolCallsCase{"name_case_matters", "Now", "{}", true, kUnknown},
        ToolCallsCase{"empty_name", "", "{}", true, kUnknown},
        ToolCallsCase{"custom_tool_free_input", "shell", "ls -la", false, std::nullopt},
        ToolCallsCase{"custom_tool_unknown", "bash", "ls", false, kUnknown}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ToolCalls, NothingOfferedMeansEveryNameIsUnknown) {
  EXPECT_EQ(tool_call_problem(RequestedOutput{}, {"now", "{}", true}), kUnknown);
}

TEST(ToolCalls, FirstProblemAmongSeveral) {
  const std::vector<ToolCall> ok = {{"now", "{}", true},
                                    {"get_weather", R"({"city":"a","unit":"b"})", true}};
  EXPECT_EQ(first_tool_call_problem(offered(), ok), std::nullopt);
  const std::vector<ToolCall> second_bad = {{"now", "{}", true}, {"now", "[", true}};
  EXPECT_EQ(first_tool_call_problem(offered(), second_bad), kNotObject);
  EXPECT_EQ(first_tool_call_problem(offered(), {}), std::nullopt);
}

}  // namespace
}  // namespace gw::policies
