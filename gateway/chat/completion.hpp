#pragma once
// Reading and editing OpenAI chat completion bodies and stream chunks: pure JSON code, no I/O.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  std::uint64_t tokens = 0;  // content-bearing stream chunks (or logprob entries)
};

// choices[0] of a chat.completion; nullopt when the body has no usable first choice.
std::optional<DraftText> read_completion(const nlohmann::json& body);
Usage read_usage(const nlohmann::json& body);

// Adds `extra` into body.usage (prompt, completion, total), creating it when absent.
void add_usage(nlohmann::json& body, const Usage& extra);
// Sets choices[*].logprobs to null, as a model does when not asked (the gateway asked; the
// client did not).
void strip_logprobs(nlohmann::json& body);

// One parsed stream chunk.
struct Chunk {
  nlohmann::json json;
  std::string content;        // choices[0].delta.content
  std::string finish_reason;  // choices[0].finish_reason, empty when null
  std::vector<double> logprobs;
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
  bool drop_usage = false;      // drop the usage the client did not ask for
  Usage add_usage;              // earlier legs' tokens, added to the usage the client gets
  bool any() const { return !model.empty() || strip_logprobs || drop_usage || add_usage.present; }
};

// The edited data for one event: the same data when nothing changes, nullopt to drop it.
// Parses JSON only when an edit could apply.
std::optional<std::string> edit_chunk(std::string_view data, const StreamEdits& edits);

// The usage carried by an event's data, found without a full parse unless "usage" is present.
Usage usage_in(std::string_view data);

// OpenAI-style estimate when an upstream reports no usage: a token per 4 characters.
std::uint64_t estimate_tokens(std::uint64_t chars);

}  // namespace gw::chat
