#pragma once
// POST /v1/responses, /v1/completions, /v1/embeddings: a named model's answer relayed as its
// upstream sent it (stream or whole), timed, counted and costed like a direct chat request.

#include "gateway/api/endpoint.hpp"
#include "gateway/exchange/exchange.hpp"

namespace gw::api {

net::awaitable<void> handle_passthrough(Exchange& ex, const Endpoint& endpoint);

// The named models a client can ask instead of the alias: "phi-4-mini, gpt-oss-20b".
std::string named_models(const config::Config& cfg);

}  // namespace gw::api
