#pragma once
// GET /v1/models (the list) and GET /v1/models/{id} (one OpenAI model object): every configured
// model and the routing alias.

#include <string_view>

#include "gateway/exchange/exchange.hpp"

namespace gw::api {

net::awaitable<void> handle_models(Exchange& ex);
// `encoded_id`: the path after /v1/models/, still percent-encoded (`phi4-mini%3Alatest`).
net::awaitable<void> handle_model(Exchange& ex, std::string_view encoded_id);

}  // namespace gw::api
