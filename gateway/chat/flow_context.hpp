#pragma once
// FlowContext: what a routing flow works with. The two sides of the seam — the client's
// response (exchange/client_response.hpp) and the models' streams (upstream/model_stream.hpp) —
// and the request's record, config snapshot and deadline. The flows see nothing else: the chat
// handler builds one from the Exchange, unit tests from fakes (tests/gateway/chat/).

#include "gateway/completion/chat_request.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/exchange/client_response.hpp"
#include "gateway/exchange/serving_config.hpp"
#include "gateway/trace/request_trace.hpp"
#include "gateway/upstream/model_stream.hpp"

namespace gw {
class Exchange;
}

namespace gw::chat {

// What runs once an answer is out (shadow escalation, gateway/shadow/). The flows call it
// without knowing what it does; none is a valid choice.
class AnswerHooks {
 public:
  // Whether a streamed before_draft escalation should keep the text it relays for the below.
  virtual bool wants_pre_draft() = 0;
  // The draft was accepted and the client has all of it.
  virtual void after_accepted_draft(const ChatRequest& request, const DraftText& draft) = 0;
  // A before_draft escalation was answered by the large model.
  virtual void after_pre_draft_escalation(const ChatRequest& request, const DraftText& answer) = 0;

 protected:
  ~AnswerHooks() = default;  // not owned through this interface
};

struct FlowContext {
  ClientResponse& client;
  upstream::ModelStreams& models;
  RequestTrace& trace;
  const ServingSnapshot& serving;  // the snapshot the request keeps to its end
  Clock::time_point deadline;      // server.request_timeout_ms: every upstream call ends by then
  AnswerHooks* hooks = nullptr;
  bool log_prompts = false;  // server.log_prompts or --log-prompts

  const config::Config& cfg() const { return *serving->cfg; }
};

// The context of a request answered through `ex`, its deadline the request's.
FlowContext context_of(Exchange& ex, AnswerHooks* hooks = nullptr);

}  // namespace gw::chat
