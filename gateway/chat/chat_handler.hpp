#pragma once
// POST /v1/chat/completions.

#include "gateway/exchange/exchange.hpp"

namespace gw::chat {

net::awaitable<void> handle_chat(Exchange& ex);

}  // namespace gw::chat
