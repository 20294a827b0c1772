#pragma once
// What the before-draft rules look at in a chat request.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace gw::policies {

struct PromptStats {
  // Every text of the `system`, `developer` and `user` messages, in message order, joined
  // with "\n" so that `\b` and words do not run across two messages. Empty unless asked for:
  // a copy of the whole prompt (1 MB for a RAG request) that only `match` rules and prompt
  // logging read.
  std::string text;
  // Unicode code points in those texts, separators not included (see utf8::code_points()).
  std::uint64_t chars = 0;
};

// From a Chat Completions `messages` value. A message's content is a string or
// an array of parts, of which only {"type":"text","text":"..."} count. Wrong
// shapes (not an array, an entry that is not an object, no or odd content,
// a part that is not text) are skipped, never an error: the request
// validator reports them, this only measures.
PromptStats prompt_stats(const nlohmann::json& messages, bool with_text = true);

// Whether the rules read the text of a message with this role.
bool rules_read(std::string_view role);

}  // namespace gw::policies
