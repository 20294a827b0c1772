#include "policies/tool_calls.hpp"

#include <algorithm>

#include "policies/json_shape.hpp"

namespace gw::policies {

std::string_view to_string(ToolCallProblem problem) {
  switch (problem) {
    case ToolCallProblem::unknown_function:
      return "unknown_function";
    case ToolCallProblem::arguments_not_object:
      return "arguments_not_object";
    case ToolCallProblem::missing_required:
      return "missing_required";
  }
  return "unknown_function";
}

std::optional<ToolCallProblem> tool_call_problem(const RequestedOutput& requested,
                                                 const ToolCall& call) {
  const OfferedTool* tool = requested.find_tool(call.name);
  if (!tool) return ToolCallProblem::unknown_function;
  if (!call.function || !tool->function) return std::nullopt;  // free-form input
  const bool blank = call.arguments.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    if (!tool->required.empty()) return ToolCallProblem::missing_required;
    return std::nullopt;
  }
  const JsonShape shape = json_shape(call.arguments);
  if (!shape.valid || shape.top != JsonType::object) return ToolCallProblem::arguments_not_object;
  for (const auto& name : tool->required) {
    if (std::find(shape.keys.begin(), shape.keys.end(), name) == shape.keys.end()) {
      return ToolCallProblem::missing_required;
    }
  }
  return std::nullopt;
}

std::optional<ToolCallProblem> first_tool_call_problem(const RequestedOutput& requested,
                                                       std::span<const ToolCall> calls) {
  for (const auto& call : calls) {
    if (auto problem = tool_call_problem(requested, call)) return problem;
  }
  return std::nullopt;
}

}  // namespace gw::policies
