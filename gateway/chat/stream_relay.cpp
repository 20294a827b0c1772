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

net::awaitable<void> end_stream_with_error(FlowContext& cx, http::OpenAiError e) {
  const bool deadline = e.code == kRequestTimeoutCode;
  const unsigned status = e.status;
  co_await cx.client.end_stream_with_error(std::move(e));
  // The head said 200 long ago; the log says what happened: our deadline passed (504).
  if (deadline) cx.trace.status = status;
}

namespace {

// Why a started stream could not go on, as the error event the client gets.
http::OpenAiError broken_stream_error(const SseReader::Next& n, const config::Model& m) {
  if (n.step == SseReader::Step::overflow) {
    return http::make_error(502,
                            "upstream " + m.name + " sent an oversized event (over " +
                                std::to_string(http::SseParser::kDefaultMaxEventBytes) + " bytes)",
                            "upstream_error");
  }
  if (n.error == upstream::CallError::deadline) return deadline_error();
  if (n.error == upstream::CallError::timeout) {
    return http::make_error(504, "upstream " + m.name + " stalled mid-stream", "upstream_timeout");
  }
  return http::make_error(502, "upstream " + m.name + " broke off the stream", "upstream_error");
}

// A coroutine of its own: the error's temporaries would otherwise sit in relay_events()'s
// frame, which lives as long as the stream.
net::awaitable<void> end_broken_stream(FlowContext& cx, const SseReader::Next& n,
                                       const config::Model& m) {
  co_await end_stream_with_error(cx, broken_stream_error(n, m));
}

// Bytes of the relay's outgoing events kept allocated between writes (one usual event fits).
constexpr std::size_t kKeptOutBytes = 512;

}  // namespace

net::awaitable<bool> relay_events(FlowContext& cx, SseReader& events, UpstreamLeg& leg,
                                  const config::Model& m, const StreamEdits& edits,
                                  DraftText* observe) {
  std::string out;
  // Observed for the late judgement only up to routing.draft_max_bytes, counted in event bytes,
  // not text (tool-call arguments and logprobs are kept too): a stream may run for minutes, and
  // what is relayed is never kept.
  const std::uint64_t observe_max_bytes = cx.cfg().routing.draft_max_bytes;
  std::uint64_t observed_bytes = 0;
  for (;;) {
    auto n = co_await events.next();
    if (n.step == SseReader::Step::event) {
      const http::SseEvent& ev = *n.event;
      if (observe && ev.has_data && observed_bytes <= observe_max_bytes) {
        observed_bytes += ev.data.size();
        add_event_to_draft(*observe, ev);
      }
      append_event(out, ev, edits, leg);
      if (events.buffered()) continue;  // one write for every event that came in one read
      bool written = co_await cx.client.write_chunk(out);
      if (!written) co_return false;
      out.clear();
      // The hold window's flush grows `out` to every held event: not kept for the rest of a
      // stream that may be held for minutes.
      if (out.capacity() > kKeptOutBytes) out.shrink_to_fit();
      continue;
    }
    if (n.step != SseReader::Step::end) {
      bool flushed = co_await cx.client.write_chunk(out);  // the complete events before it
      if (!flushed) co_return false;
      // After the head is out the status cannot change: end with an error event.
      co_await end_broken_stream(cx, n, m);
      co_return false;
    }
    break;
  }
  // An upstream that ends without a final blank line: pass its last bytes on as they were.
  const std::string tail(events.pending());
  bool written = co_await cx.client.write_chunk(tail);
  if (!written) co_return false;
  leg.done = Clock::now();
  bool ended = co_await cx.client.end_stream();
  co_return ended;
}

}  // namespace gw::chat
