#pragma once
// A DraftText as policies::judge sees it: the text, the complete tool calls, and what the request
// asked for. Owns the views its policies::Draft points into, so it is neither copied nor moved.

#include <vector>

#include "gateway/completion/completion.hpp"
#include "policies/judge.hpp"
#include "policies/requested_output.hpp"

namespace gw::chat {

struct JudgedDraft {
  std::vector<policies::ToolCall> calls;
  policies::Draft draft;

  // `complete` = false: a held prefix, whose last tool call may still be receiving arguments.
  JudgedDraft(const DraftText& d, bool complete, const policies::RequestedOutput* requested)
      : calls(d.tool_calls.complete_views(complete)),
        draft{d.text, d.finish_reason, d.logprobs, complete} {
    draft.tool_calls = calls;
    draft.tool_call_open = !complete && d.tool_calls.last_open;
    draft.requested = requested;
    draft.first_margin = d.first_margin;
  }
  JudgedDraft(const JudgedDraft&) = delete;
  JudgedDraft& operator=(const JudgedDraft&) = delete;
  ~JudgedDraft() = default;
};

}  // namespace gw::chat
