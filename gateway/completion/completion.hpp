#pragma once
// Reading and editing OpenAI chat completion bodies and stream chunks: pure JSON code, no I/O.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/completion/draft_tool_calls.hpp"

namespace gw::chat {

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  bool present = false;
};

// What the judge needs from a draft, read from a whole completion or accumulated from chunks.
struct DraftText {
  std::string text;
  std::string finish_reason;
  std::vector<double> logprobs;
  // The first token's top-1 minus top-2 logprob (from its top_logprobs); nullopt without two.
  std::optional<double> first_margin;
  std::uint64_t tokens = 0;   // content- or tool-call-bearing stream chunks (or logprob entries)
  DraftToolCalls tool_calls;  // a tool-call answer; `text` is then its preamble, if any
  // Text, tool calls, or both: a usable answer (a bare tool call has `content: null`).
  bool answered() const { return !text.empty() || !tool_calls.empty(); }
};

// choices[0] of a chat.completion; nullopt when the body has no usable first choice.
std::optional<DraftText> read_completion(const nlohmann::json& body);
Usage read_usage(const nlohmann::json& body);

// Adds `extra` into body.usage (prompt, completion, total), creating it when absent.
void add_usage(nlohmann::json& body, const Usage& extra);
// Sets choices[*].logprobs to null, as a model does when not asked (the gateway asked; the
// client did not).
void strip_logprobs(nlohmann::json& body);
// Cuts every choices[*].logprobs.content[*].top_logprobs to its first `keep` entries: the
// gateway asked for more alternatives than the client did (first_margin_under needs two).
void trim_top_logprobs(nlohmann::json& body, std::uint32_t keep);

// The top-1 minus top-2 logprob of a logprobs.content entry's `top_logprobs`; nullopt when it
// has fewer than two numeric alternatives.
std::optional<double> top2_margin(const nlohmann::json& entry);

// Bounded: a stream chunk is parsed into a JSON tree (several times its size in memory) only
// up to this size; a token delta is a few hundred bytes, a few KiB with top_logprobs. A larger
// chunk is not read (a held draft that sends one is a broken draft) and relayed unedited.
inline constexpr std::size_t kMaxParsedChunkBytes = 256 * 1024;

// One parsed stream chunk.
struct Chunk {
  nlohmann::json json;
  std::string content;        // choices[0].delta.content
  std::string finish_reason;  // choices[0].finish_reason, empty when null
  std::vector<double> logprobs;
  std::optional<double> first_margin;  // of this chunk's first logprob entry
  bool has_choices = false;
  Usage usage;
};

// nullopt when `data` is not a JSON object.
std::optional<Chunk> read_chunk(std::string_view data);
void accumulate(DraftText& draft, const Chunk& chunk);

// Edits applied to every event relayed to the client.
struct StreamEdits {
  std::string model;            // non-empty: rewrite "model" to this name
  bool strip_logprobs = false;  // remove logprobs the client did not ask for
  // >= 0: cut top_logprobs lists to this many (the client asked for fewer than the gateway).
  int keep_top_logprobs = -1;
  bool drop_usage = false;  // drop the usage the client did not ask for
  Usage add_usage;          // earlier legs' tokens, added to the usage the client gets
  bool any() const {
    return !model.empty() || strip_logprobs || keep_top_logprobs >= 0 || drop_usage ||
           add_usage.present;
  }
};

// The edited data for one event: the same data when nothing changes, nullopt to drop it.
// Parses JSON only when an edit could apply.
std::optional<std::string> edit_chunk(std::string_view data, const StreamEdits& edits);

// The usage carried by an event's data, found without a full parse unless "usage" is present:
// prompt/completion tokens, or the Responses API's input/output tokens.
Usage usage_in(std::string_view data);

// OpenAI-style estimate when an upstream reports no usage: a token per 4 characters.
std::uint64_t estimate_tokens(std::uint64_t chars);

}  // namespace gw::chat
