#pragma once
// A /v1/responses, /v1/completions or /v1/embeddings body, parsed once and checked just enough
// to route it (model, stream, stream_options); the upstream judges the rest.

#include <string_view>
#include <variant>

#include "gateway/api/endpoint.hpp"
#include "gateway/completion/chat_request.hpp"

namespace gw::api {

// The fields a passthrough needs, in the chat request's shape (json, model, stream,
// include_usage) so the chat code that builds upstream bodies serves both.
std::variant<chat::ChatRequest, http::OpenAiError> parse_passthrough_request(
    std::string_view body, const Endpoint& endpoint);

}  // namespace gw::api
