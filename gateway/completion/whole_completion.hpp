#pragma once
// A non-streamed chat.completion from an upstream, read and edited without building its JSON
// tree. The body is untrusted: a tree of a 12 MiB answer made of small values costs hundreds of
// megabytes (issue 9). Both functions here run nlohmann's SAX parser (iterative: no recursion
// per nesting level) and keep only what is needed, so memory is a small multiple of the body
// whatever its shape, and nesting deeper than `max_depth` is refused.

#include <optional>
#include <string>
#include <string_view>

#include "gateway/completion/completion.hpp"
#include "gateway/http/json_text.hpp"

namespace gw::chat {

struct CompletionFacts {
  DraftText draft;  // what read_completion() reads from choices[0], as the judge needs it
  Usage usage;      // the top-level usage
};

// Bounded: tool calls and the first token's alternatives are kept as small JSON values; a
// message with more values than this in them is not a completion the gateway routes.
inline constexpr std::size_t kMaxKeptJsonValues = 65536;

// The facts of a chat.completion body; nullopt when it is not JSON, nests deeper than
// `max_depth`, or has no usable choices[0].message (as read_completion()).
std::optional<CompletionFacts> read_completion_facts(std::string_view body,
                                                     int max_depth = http::kMaxJsonDepth);

struct CompletionEdits {
  std::string model;            // non-empty: the top-level "model" becomes this
  bool strip_logprobs = false;  // choices[*].logprobs become null
  std::optional<Usage> usage;   // the top-level usage counts become these (added when absent)
  // choices[*].logprobs.content[*].top_logprobs keep at most this many alternatives (the judge
  // asked for more than the client).
  std::optional<std::uint32_t> keep_top_logprobs;
};

// `body` re-emitted with `edits` applied (compact JSON; other values as they came); nullopt when
// it is not JSON or nests deeper than `max_depth`.
std::optional<std::string> rewrite_completion(std::string_view body, const CompletionEdits& edits,
                                              int max_depth = http::kMaxJsonDepth);

}  // namespace gw::chat
