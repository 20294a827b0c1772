#pragma once
// POST /v1/chat/completions and GET /v1/models.

#include "gateway/server/exchange.hpp"

namespace gw::chat {

net::awaitable<void> handle_chat(Exchange& ex);
net::awaitable<void> handle_models(Exchange& ex);

}  // namespace gw::chat
