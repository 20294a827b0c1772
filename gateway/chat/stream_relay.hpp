#pragma once
// SseRelay: upstream SSE events to the client as each one completes, with the edits a route
// needs (model name, logprobs and usage the client did not ask for); usage and the first token
// are recorded in the request's trace on the way.

#include <string>

#include "gateway/chat/flow_context.hpp"
#include "gateway/chat/sse_reader.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/http/sse_parser.hpp"

namespace gw::chat {

// The first event that carries generated text marks the first token: a cheap check, no parse.
bool carries_content(std::string_view data);

// Appends `ev` to `out` as the client should get it (edited, or nothing when dropped), and
// records its usage and first token in `leg`.
void append_event(std::string& out, const http::SseEvent& ev, const StreamEdits& edits,
                  UpstreamLeg& leg);

// Relays the rest of `events` (some may be buffered already) to the started response and ends
// it; the events buffered are written together before the reader waits for more. `observe`,
// when given, accumulates the answer relayed. Returns false when the stream broke off (an error
// event was sent) or the client could not be written to.
net::awaitable<bool> relay_events(FlowContext& cx, SseReader& events, UpstreamLeg& leg,
                                  const config::Model& m, const StreamEdits& edits,
                                  DraftText* observe = nullptr);

// Ends a started stream with an error event; our deadline's is logged as the 504 it is.
net::awaitable<void> end_stream_with_error(FlowContext& cx, http::OpenAiError e);

}  // namespace gw::chat
