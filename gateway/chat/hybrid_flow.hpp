#pragma once
// HybridFlow: requests for the routing alias (`auto`): draft on the small model, judge, and
// answer with the draft or escalate to the large model.

#include "gateway/completion/chat_request.hpp"
#include "gateway/exchange/exchange.hpp"

namespace gw::chat {

net::awaitable<void> hybrid_flow(Exchange& ex, ChatRequest& request);

}  // namespace gw::chat
