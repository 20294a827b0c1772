#pragma once
// Is a draft's tool call one the request allows? Checked against the offered tools only as
// far as SPEC's `invalid_tool_call` says: the function's name, arguments that are a JSON
// object, and the top-level `required` parameters. Types and nested schemas are not checked
// (no JSON-schema library ships with Debian; see README "Agents and tools").

#include <optional>
#include <span>
#include <string_view>

#include "policies/requested_output.hpp"

namespace gw::policies {

// One complete tool call of a draft. Views only: the caller owns the text.
struct ToolCall {
  std::string_view name;
  std::string_view arguments;  // the JSON text the model wrote, as sent
  bool function = true;        // false: another tool type (free-form input), name checked only
};

enum class ToolCallProblem { unknown_function, arguments_not_object, missing_required };

std::string_view to_string(ToolCallProblem problem);

// nullopt when the call is allowed. In order: the name must be an offered tool's;
// a function's arguments must be a JSON object (empty text counts as `{}`, as several
// runtimes send it for functions without parameters); each required name must be a key.
std::optional<ToolCallProblem> tool_call_problem(const RequestedOutput& requested,
                                                 const ToolCall& call);

// The first problem among `calls`, nullopt when every call is allowed.
std::optional<ToolCallProblem> first_tool_call_problem(const RequestedOutput& requested,
                                                       std::span<const ToolCall> calls);

}  // namespace gw::policies
