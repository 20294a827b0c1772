#pragma once
// Forward: one chat request to one named model, relayed to the client as it arrives.

#include <string>

#include "gateway/chat/flow_context.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/config/config.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/http/redact.hpp"
#include "gateway/upstream/model_stream.hpp"

namespace gw::chat {

// Runs `work` until it completes or the client goes away; then `work` is cancelled, which
// closes its upstream connection (the upstream stops generating). At the request deadline the
// work's upstream calls fail with CallError::deadline and it answers 504 (or ends its stream
// with an error event) within a short grace; a work still running after that is cut.
net::awaitable<void> until_client_leaves(Exchange& ex, net::awaitable<void> work);

// The error code of a request that ran out of server.request_timeout_ms (our deadline, logged
// as 504), as opposed to "client_gone" (the client left: 499).
inline constexpr std::string_view kRequestTimeoutCode = "request_timeout";
// When server.request_timeout_ms runs out for this request: every upstream wait ends by then.
Clock::time_point request_deadline(const Exchange& ex);
// The 504 for a request whose deadline passed.
http::OpenAiError deadline_error();

// The OpenAI error for a failed upstream call: 504 on timeout, 502 otherwise.
http::OpenAiError call_failure(upstream::CallError err, const upstream::ModelStream& call,
                               const config::Model& m);

// Sends `body` to `model`'s `path` (after its base path) and relays the answer: SSE event by
// event (with `edits`) when the upstream streams, otherwise whole. Upstream errors keep the
// upstream's status, message and rate-limit hints.
net::awaitable<void> forward(Exchange& ex, const config::Model& model, std::string body,
                             bool stream, const StreamEdits& edits,
                             std::string_view path = upstream::kChatCompletionsPath);
// The same relay over the seam, without watching the client (forward() adds that).
net::awaitable<void> relay(FlowContext& cx, const config::Model& m, http::OutgoingBody body,
                           bool stream, const StreamEdits& edits, std::string_view path);

// The OpenAI error for a non-2xx upstream answer: its body read (bounded) and kept, or wrapped;
// its rate-limit hints (retry-after, x-ratelimit-*) kept for the client. `secrets` are redacted
// from the whole body before any of it is cut short: a key straddling the cut would otherwise
// leave its first bytes in the quote.
net::awaitable<http::OpenAiError> upstream_status_error(upstream::ModelStream& call,
                                                        const config::Model& m,
                                                        const http::SecretRedactor& secrets);

}  // namespace gw::chat
