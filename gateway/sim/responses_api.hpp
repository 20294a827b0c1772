#pragma once
// The OpenAI Responses API (POST /v1/responses) as llm-sim answers it: the request read into the
// chat shape the planner takes, the answer rendered as a `response` object or as the API's own
// stream events (response.created ... response.completed). Pure: no sockets, no clocks.

#include <cstdint>
#include <string_view>
#include <variant>

#include "gateway/sim/answer_wire.hpp"
#include "gateway/sim/reply.hpp"

namespace gw::sim {

// `input` (a string or message items), `instructions`, `stream`, `max_output_tokens`.
std::variant<ChatRequest, RequestError> parse_responses_request(std::string_view body);

class ResponsesWire : public AnswerWire {
 public:
  ResponsesWire(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                int64_t created);
  std::string body() const override;
  std::vector<std::string> opening() const override;
  std::string token(size_t i) const override;
  std::vector<std::string> closing() const override;

 private:
  std::string event(std::string_view type, std::string_view fields) const;
  std::string response_object(bool finished) const;
  std::string message_item(bool finished) const;

  const ChatRequest& request_;
  const ReplyPlan& plan_;
  std::string id_;
  std::string item_id_;
  int64_t created_;
  mutable uint64_t sequence_ = 0;  // sequence_number: events are rendered in order
};

}  // namespace gw::sim
