#pragma once
// Forward: one chat request to one named model, relayed to the client as it arrives.

#include <string>

#include "gateway/chat/completion.hpp"
#include "gateway/config/config.hpp"
#include "gateway/server/exchange.hpp"
#include "gateway/upstream/call.hpp"

namespace gw::chat {

// Runs `work` until it completes or the client goes away; then `work` is cancelled, which
// closes its upstream connection (the upstream stops generating).
net::awaitable<void> until_client_leaves(Exchange& ex, net::awaitable<void> work);

// The OpenAI error for a failed upstream call: 504 on timeout, 502 otherwise.
http::OpenAiError call_failure(upstream::CallError err, const upstream::Call& call,
                               const config::Model& m);

// Sends `body` to `model` and relays the answer: SSE event by event (with `edits`) when the
// upstream streams, otherwise whole. Upstream errors keep the upstream's status and message.
net::awaitable<void> forward(Exchange& ex, const config::Model& model, std::string body,
                             bool stream, const StreamEdits& edits);

// The OpenAI error for a non-2xx upstream answer: its body read (bounded) and kept, or wrapped.
net::awaitable<http::OpenAiError> upstream_status_error(upstream::Call& call,
                                                        const config::Model& m);

}  // namespace gw::chat
