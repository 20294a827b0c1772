#pragma once
// The body sent upstream for a chat request, and the edits its answer then needs on the way back.

#include <string>

#include "gateway/completion/chat_request.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/config/config.hpp"
#include "gateway/http/outgoing_body.hpp"

namespace gw::chat {

// A direct request: the client's bytes as sent whenever possible (no re-serialisation); the
// model name substituted when `upstream_model` differs; streams ask for usage (for the token
// and cost metrics), and `edits` then drops it for a client that did not ask. Endpoints whose
// streams always carry usage (the Responses API) pass `stream_usage_option` false: no edits.
std::string direct_body(const ChatRequest& request, const config::Model& model,
                        std::string client_body, StreamEdits& edits,
                        bool stream_usage_option = true);

// The functions below read `request.json`: call keep_body() (the routed path) or load_json()
// first.

// A leg of a routed (`auto`) request: the request with `messages` replaced when given, sent to
// `model` as a stream or not, asking for logprobs when the judge needs them.
// `top_logprobs` > 0 asks for that many alternatives per token (first_margin_under needs 2),
// unless the client asked for more. The members it does not set are borrowed from
// `request.source` (which must outlive the body) when that holds the client's bytes.
http::OutgoingBody routed_body(const ChatRequest& request, const config::Model& model, bool stream,
                               bool want_logprobs, const nlohmann::json* messages = nullptr,
                               std::uint32_t top_logprobs = 0);

// The edits a routed leg's answer needs before the client sees it.
StreamEdits routed_edits(const ChatRequest& request, const config::Model& model, bool want_logprobs,
                         std::uint32_t top_logprobs = 0);

// The client's own `top_logprobs` (0 when absent or not a count).
std::uint32_t client_top_logprobs(const ChatRequest& request);

// The last user message's text, for the debug prompt log.
std::string last_user_text(const nlohmann::json& body);

}  // namespace gw::chat
