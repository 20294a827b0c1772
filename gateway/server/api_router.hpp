#pragma once
// Routes for the OpenAI-compatible listener, and for the admin listener.

#include "gateway/exchange/exchange.hpp"

namespace gw {

net::awaitable<void> route_api(Exchange& ex);
net::awaitable<void> route_admin(Exchange& ex);

// Constant-time check of "Authorization: Bearer KEY" against the configured keys.
bool authorized(const config::Auth& auth, std::string_view authorization_header);

}  // namespace gw
