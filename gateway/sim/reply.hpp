#pragma once
// What to answer to one chat request, and its JSON wire text. Pure: no sockets, no clocks.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/http/json_text.hpp"
#include "gateway/sim/answer.hpp"
#include "gateway/sim/simulator.hpp"
#include "gateway/sim/tool_calls.hpp"

namespace gw::sim {

struct ChatRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  uint32_t top_logprobs = 0;  // alternatives per token, when logprobs
  std::optional<uint32_t> max_tokens;
  uint64_t messages_hash = 0;  // over roles and texts, not raw bytes: a proxy may re-serialise
  size_t prompt_chars = 0;
  std::string last_user_text;
  AgentRequest agent;  // tools and response_format
};

struct RequestError {
  unsigned status = 400;
  std::string message;
  std::string param;  // empty = null
  std::string code;   // empty = null
};

std::variant<ChatRequest, RequestError> parse_chat_request(std::string_view body);

enum class Outcome { answer, error, garbage, empty, cut, stall };

struct ReplyPlan {
  Outcome outcome = Outcome::answer;
  unsigned error_status = 0;
  std::optional<uint32_t> retry_after_s;  // error: send retry-after and x-ratelimit-* headers
  Tokens tokens;
  std::string_view finish_reason = "stop";
  double logprob = -0.2;
  std::optional<double> min_logprob;   // [sim:min_logprob=X] (gateway/sim/logprob_shape.hpp)
  std::optional<double> first_margin;  // [sim:first_margin=X]
  uint32_t ttft_ms = 0;
  double tokens_per_s = 0;
  std::optional<uint32_t> cut_after;    // stream: close after this many tokens
  std::optional<uint32_t> stall_after;  // stream: go silent after this many tokens
  bool usage = true;
  uint32_t prompt_tokens = 0;
  std::vector<SimToolCall> tool_calls;  // after the text (a preamble, often empty)
  uint32_t argument_pieces = 3;         // stream: deltas per call's arguments
  uint32_t tool_tokens = 0;             // completion tokens of the calls' arguments
};

ReplyPlan plan_reply(const ChatRequest& request, const ModelProfile& profile, uint64_t seed);

inline constexpr std::string_view kRefusalText =
    "I don't know. The provided context is insufficient to answer that.";
inline constexpr std::string_view kShortText = "OK.";
inline constexpr uint32_t kLongTokens = 400;

using http::append_json_string;  // shared with the gateway's log
std::string error_body(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code);
std::string completion_body(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                            int64_t created);

// Renders the SSE events of one stream; the shared `{"id":..,"model":..,` prefix is built once.
class ChunkRenderer {
 public:
  ChunkRenderer(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                int64_t created);
  std::string role() const;
  std::string token(size_t i) const;
  std::string finish() const;
  std::string usage() const;
  std::string no_choices() const;                        // the `empty` behaviour
  std::string delta(std::string_view delta_json) const;  // e.g. a tool-call delta
  static std::string_view done() { return "data: [DONE]\n\n"; }

 private:
  const ChatRequest& request_;
  const ReplyPlan& plan_;
  std::string prefix_;
};

}  // namespace gw::sim
