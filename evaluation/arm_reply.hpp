#pragma once
// What one arm answered, read from an OpenAI chat completion (a JSON body or an SSE stream).
// Pure: no I/O, no clocks.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::eval {

// llm-sim's completion ids start with this: how `run` knows the upstream was simulated.
inline constexpr std::string_view kSimulatorIdPrefix = "chatcmpl-sim-";

struct ArmReply {
  bool parsed = false;  // false: the body was not a chat completion
  std::string id;
  std::string model;  // the body's "model"
  std::string text;
  std::string finish_reason;
  std::string kind = "text";  // text | tool_calls
  std::optional<uint64_t> prompt_tokens;
  std::optional<uint64_t> completion_tokens;
  std::vector<double> logprobs;        // per token, in order
  std::optional<double> first_margin;  // top-1 minus top-2 of the first token
};

ArmReply parse_completion(std::string_view body);
ArmReply parse_sse(std::string_view body);
// True once an SSE body so far holds a chunk with non-empty content or a tool call delta.
bool sse_has_first_token(std::string_view body_so_far);

// `Server-Timing: prep;dur=0.05, upstream;dur=1.2` -> {"prep":0.05,"upstream":1.2}.
std::map<std::string, double> parse_server_timing(std::string_view header);

// The hg.outcome/1 "logprobs" object: {n, mean, min, p10, first_margin, hold_mean}; null when
// there are no logprobs. hold_mean is the mean over the first `hold_tokens` tokens.
nlohmann::json logprob_summary(const std::vector<double>& logprobs,
                               std::optional<double> first_margin, uint32_t hold_tokens);

}  // namespace gw::eval
