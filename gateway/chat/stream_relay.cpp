#include "gateway/chat/stream_relay.hpp"

#include "gateway/chat/forward.hpp"

namespace gw::chat {

namespace {
// True when `data` has `key` (with its quotes and colon) followed by a non-empty string.
bool has_text_at(std::string_view data, std::string_view key) {
  auto p = data.find(key);
  return p != std::string_view::npos && p + key.size() < data.size() && data[p + key.size()] != '"';
}
}  // namespace

bool carries_content(std::string_view data) {
  // Chat deltas carry "content" (tool-call deltas "arguments"), legacy completions "text",
  // Responses API events "delta".
  return has_text_at(data, R"("content":")") || has_text_at(data, R"("text":")") ||
         has_text_at(data, R"("delta":")") || has_text_at(data, R"("arguments":")");
}

std::string sse_error_event(const http::OpenAiError& e) {
  return "data: " + e.body() + "\n\n";
}

void append_event(std::string& out, const http::SseEvent& ev, const StreamEdits& edits,
                  UpstreamLeg& leg) {
  if (ev.has_data) {
    if (carries_content(ev.data)) {
      if (leg.first_token == Clock::time_point{}) leg.first_token = Clock::now();
      ++leg.content_events;
    }
    if (Usage u = usage_in(ev.data); u.present) {
      leg.prompt_tokens = u.prompt_tokens;
      leg.completion_tokens = u.completion_tokens;
      leg.usage_reported = true;
    }
    if (edits.any()) {
      auto edited = edit_chunk(ev.data, edits);
      if (!edited) return;  // dropped
      if (*edited != ev.data) {
        out.append("data: ").append(*edited).append("\n\n");
        return;
      }
    }
  }
  out.append(ev.raw);
}

net::awaitable<void> end_stream_with_error(Exchange& ex, http::OpenAiError e) {
  co_await ex.end_stream_with_error(e);
  // The head said 200 long ago; the log says what happened: our deadline passed (504).
  if (e.code == kRequestTimeoutCode) ex.trace.status = e.status;
}

net::awaitable<bool> relay_events(Exchange& ex, upstream::Call& call, UpstreamLeg& leg,
                                  const config::Model& m, http::SseParser& parser,
                                  const StreamEdits& edits, DraftText* observe) {
  std::string out;
  // Counted in event bytes, not text: tool-call arguments and logprobs are kept too, and a
  // stream of nothing else would leave the text empty.
  std::uint64_t observed_bytes = 0;
  for (;;) {
    out.clear();
    while (auto ev = parser.next()) {
      // Observed for the late judgement only up to routing.draft_max_bytes: a stream may run
      // for minutes, and what is relayed is never kept.
      if (observe && ev->has_data && ev->data != "[DONE]" &&
          observed_bytes <= ex.cfg().routing.draft_max_bytes) {
        observed_bytes += ev->data.size();
        if (auto chunk = read_chunk(ev->data)) accumulate(*observe, *chunk);
      }
      append_event(out, *ev, edits, leg);
    }
    if (parser.overflowed()) {
      bool flushed = co_await ex.write_chunk(out);  // the complete events before it
      if (!flushed) co_return false;
      auto e =
          http::make_error(502,
                           "upstream " + m.name + " sent an oversized event (over " +
                               std::to_string(http::SseParser::kDefaultMaxEventBytes) + " bytes)",
                           "upstream_error");
      co_await end_stream_with_error(ex, std::move(e));
      co_return false;
    }
    bool written = co_await ex.write_chunk(out);
    if (!written) co_return false;

    auto [err, piece] = co_await call.read_some();
    if (err != upstream::CallError::none) {
      // After the head is out the status cannot change: end with an error event.
      auto e = err == upstream::CallError::deadline ? deadline_error()
               : err == upstream::CallError::timeout
                   ? http::make_error(504, "upstream " + m.name + " stalled mid-stream",
                                      "upstream_timeout")
                   : http::make_error(502, "upstream " + m.name + " broke off the stream",
                                      "upstream_error");
      co_await end_stream_with_error(ex, std::move(e));
      co_return false;
    }
    if (piece.empty()) break;
    parser.feed(piece);
  }
  // An upstream that ends without a final blank line: pass its last bytes on as they were.
  const std::string tail(parser.pending());
  bool written = co_await ex.write_chunk(tail);
  if (!written) co_return false;
  leg.done = Clock::now();
  bool ended = co_await ex.end_stream();
  co_return ended;
}

}  // namespace gw::chat
