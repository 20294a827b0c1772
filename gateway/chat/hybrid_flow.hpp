#pragma once
// HybridFlow: requests for the routing alias (`auto`): draft on the small model, judge, and
// answer with the draft or escalate to the large model. Works over the seam (FlowContext) only.

#include "gateway/chat/flow_context.hpp"
#include "gateway/completion/chat_request.hpp"

namespace gw::chat {

net::awaitable<void> hybrid_flow(FlowContext& cx, ChatRequest& request);

}  // namespace gw::chat
