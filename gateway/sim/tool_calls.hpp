#pragma once
// Agent answers for llm-sim: tool calls built from the request's `tools`, and structured output
// built from its `response_format`, each breakable by a directive so tests can feed the
// gateway's judge a wrong function name, non-object arguments, a missing required parameter,
// invalid JSON or a missing property. Pure: no sockets, no clocks.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gw::sim {

struct Script;

// What the request offers and asks for, as far as the simulator answers it.
struct AgentRequest {
  struct Tool {
    std::string name;
    std::string arguments;         // a JSON object with every required parameter
    std::string missing_argument;  // those arguments without the first required one
  };
  std::vector<Tool> tools;  // `function` tools, in request order
  bool tool_choice_none = false;
  bool last_is_tool_result = false;  // the conversation ends with a `tool` message
  std::string format;                // "", "json_object" or "json_schema"
  std::string json_answer;           // a valid answer to `format`
  std::string json_missing;          // that answer without the first required property
};

// From a parsed Chat Completions body; never fails (odd shapes are skipped).
AgentRequest read_agent_request(const nlohmann::json& body);

struct SimToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

// The agent part of a reply.
struct AgentAnswer {
  std::vector<SimToolCall> calls;   // empty: a text (or structured) answer
  std::optional<std::string> text;  // overrides the answer text: preamble or structured output
  uint32_t argument_pieces = 3;     // stream: deltas each call's arguments is split into
};

// Tool calls when tools are offered, the conversation does not end with a tool result,
// tool_choice is not "none" and no `no_tool` directive says otherwise; structured output when
// response_format asks for JSON; nothing otherwise. `call_seq` numbers the call ids.
AgentAnswer plan_agent_answer(const AgentRequest& request, const Script& script, uint64_t call_seq);

// `"tool_calls":[...]` of a chat.completion message.
void append_tool_calls(std::string& out, const std::vector<SimToolCall>& calls);

// The stream deltas of one call: a first one with id, type and name (empty arguments), then
// the arguments in `pieces` parts (at least one). Each is the value of `delta`.
std::vector<std::string> tool_call_deltas(const SimToolCall& call, size_t index, uint32_t pieces);

}  // namespace gw::sim
