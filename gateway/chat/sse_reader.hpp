#pragma once
// SseReader: one model's event stream, an event at a time. It reads from the stream only when no
// complete event is buffered, so a caller can tell "the next event is here" from "the next
// event means waiting" (buffered()) and write what it has before it waits. The one read loop of
// the hold window, the relay and the refine drain.

#include <optional>
#include <string_view>

#include "gateway/completion/completion.hpp"
#include "gateway/http/sse_parser.hpp"
#include "gateway/upstream/model_stream.hpp"

namespace gw::chat {

class SseReader {
 public:
  enum class Step {
    event,     // `event` is the next complete event
    end,       // the stream ended; pending() holds what came after the last complete event
    overflow,  // an event grew past SseParser::kDefaultMaxEventBytes: the stream is unusable
    failed,    // reading failed (`error`)
  };
  struct Next {
    Step step = Step::end;
    const http::SseEvent* event = nullptr;  // valid until the next call to next()
    upstream::CallError error = upstream::CallError::none;
  };

  explicit SseReader(upstream::ModelStream& stream) : stream_(stream) {}
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;
  ~SseReader() = default;

  // The next event; waits on the stream only when none is buffered.
  net::awaitable<Next> next();
  // next() will return at once: a complete event is buffered (or the parser has overflowed).
  bool buffered();
  // Bytes received that are not part of a returned event.
  std::string_view pending() const { return parser_.pending(); }

 private:
  upstream::ModelStream& stream_;
  http::SseParser parser_;
  std::optional<http::SseEvent> ahead_;    // parsed, not yet returned
  std::optional<http::SseEvent> current_;  // the event the last next() returned
};

// Adds a streamed chunk event's text, tool-call deltas, logprobs and finish reason to `draft`.
// False when the event's data is not a chat completion chunk. [DONE] and data-less events add
// nothing.
bool add_event_to_draft(DraftText& draft, const http::SseEvent& ev);

}  // namespace gw::chat
