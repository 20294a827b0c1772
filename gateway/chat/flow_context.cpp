#include "gateway/chat/flow_context.hpp"

#include "gateway/chat/forward.hpp"
#include "gateway/exchange/exchange.hpp"

namespace gw::chat {

FlowContext context_of(Exchange& ex, AnswerHooks* hooks) {
  return FlowContext{ex,    ex.deps.models,   ex.trace, ex.serving, request_deadline(ex),
                     hooks, ex.logs_prompts()};
}

}  // namespace gw::chat
