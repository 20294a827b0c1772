#include "gateway/chat/sse_reader.hpp"

#include "gateway/completion/completion.hpp"

namespace gw::chat {

bool SseReader::buffered() {
  if (!ahead_) ahead_ = parser_.next();
  return ahead_.has_value() || parser_.overflowed();
}

net::awaitable<SseReader::Next> SseReader::next() {
  for (;;) {
    if (!ahead_) ahead_ = parser_.next();
    if (ahead_) {
      current_ = std::move(ahead_);
      ahead_.reset();
      co_return Next{Step::event, &*current_, upstream::CallError::none};
    }
    if (parser_.overflowed()) co_return Next{Step::overflow, nullptr, upstream::CallError::none};
    // Nothing buffered: every view into the parser's buffer handed out may now be invalidated.
    current_.reset();
    auto [err, piece] = co_await stream_.read_some();
    if (err != upstream::CallError::none) co_return Next{Step::failed, nullptr, err};
    if (piece.empty()) co_return Next{Step::end, nullptr, upstream::CallError::none};
    parser_.feed(piece);
  }
}

bool add_event_to_draft(DraftText& draft, const http::SseEvent& ev) {
  if (!ev.has_data || ev.data == "[DONE]") return true;
  auto chunk = read_chunk(ev.data);
  if (!chunk) return false;
  accumulate(draft, *chunk);
  return true;
}

}  // namespace gw::chat
