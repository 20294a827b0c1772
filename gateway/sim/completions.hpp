#pragma once
// Legacy completions (POST /v1/completions) as llm-sim answers them: `prompt` read into the chat
// shape the planner takes; `text_completion` objects whole or as stream chunks. Pure.

#include <cstdint>
#include <string_view>
#include <variant>

#include "gateway/sim/answer_wire.hpp"
#include "gateway/sim/reply.hpp"

namespace gw::sim {

// `prompt` (a string or an array of strings), `stream`, `stream_options`, `max_tokens`.
std::variant<ChatRequest, RequestError> parse_completions_request(std::string_view body);

class CompletionsWire : public AnswerWire {
 public:
  CompletionsWire(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                  int64_t created);
  std::string body() const override;
  std::vector<std::string> opening() const override { return {}; }
  std::string token(size_t i) const override;
  std::vector<std::string> closing() const override;

 private:
  std::string chunk(std::string_view text, std::string_view finish_reason) const;

  const ChatRequest& request_;
  const ReplyPlan& plan_;
  std::string prefix_;  // {"id":..,"object":"text_completion","created":..,"model":..,
};

}  // namespace gw::sim
