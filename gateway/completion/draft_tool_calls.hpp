#pragma once
// The tool calls of a draft: read from a whole chat.completion message, or assembled from
// stream deltas (`delta.tool_calls[i]`, arguments arriving in pieces), so the judge can check
// them and the hold window knows when a call is complete. Pure JSON code, no I/O.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/tool_calls.hpp"

namespace gw::chat {

struct ToolCallText {
  std::uint64_t choice = 0;  // choices[].index
  std::uint64_t index = 0;   // tool_calls[].index (stream); position (whole answer)
  std::string name;
  std::string arguments;
  bool function = true;  // false: another tool type (e.g. `custom`, free-form input)
};

struct DraftToolCalls {
  std::vector<ToolCallText> calls;
  // Stream: the last call may still be receiving arguments. It is complete once a delta for
  // another call (or choice) arrives, or its choice's finish_reason does.
  bool last_open = false;

  bool empty() const { return calls.empty(); }
  // Views of the complete calls (every call when the draft is complete), for policies::judge.
  std::vector<policies::ToolCall> complete_views(bool draft_complete) const;
};

// message.tool_calls (and the legacy message.function_call) of a whole answer.
void read_message_tool_calls(const nlohmann::json& message, std::uint64_t choice,
                             DraftToolCalls& out);

// One stream choice's delta.tool_calls (and legacy delta.function_call); true when the delta
// carried any (the hold window counts it as draft progress).
bool add_tool_call_deltas(const nlohmann::json& delta, std::uint64_t choice, DraftToolCalls& out);

// Every choice of one stream chunk: its tool-call deltas, then its finish_reason. true when
// the chunk carried a tool-call delta.
bool accumulate_tool_calls(const nlohmann::json& chunk, DraftToolCalls& out);

// A finish_reason arrived for `choice`: its last call is complete.
void close_tool_calls(DraftToolCalls& calls, std::uint64_t choice);

}  // namespace gw::chat
