#include "gateway/http/sse_parser.hpp"

#include <algorithm>

namespace gw::http {

void SseParser::feed(std::string_view bytes) {
  if (event_start_ > 0) {  // drop bytes of events already handed out
    buf_.erase(0, event_start_);
    scan_ -= event_start_;
    eol_search_ -= event_start_;
    event_start_ = 0;
  }
  if (overflowed_) return;  // the stream is broken: nothing more is kept
  buf_.append(bytes);
  if (!started_) {
    // The event-stream rules drop one leading byte order mark, which may arrive split across
    // reads: until three bytes are in (or they cannot be one), nothing is parsed.
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (buf_.size() < kBom.size() && kBom.starts_with(buf_)) return;
    started_ = true;
    if (buf_.starts_with(kBom)) buf_.erase(0, kBom.size());
  }
  if (buf_.size() - event_start_ > max_event_bytes_) overflowed_ = true;
}

std::optional<SseEvent> SseParser::next() {
  if (!started_) return std::nullopt;  // a byte order mark may still be arriving
  while (scan_ < buf_.size()) {
    // Find the end of the line starting at scan_: "\n", "\r\n" or a lone "\r". The search
    // resumes where the last one stopped: bytes of an unfinished line are examined once, so a
    // long line arriving in small pieces costs linear time, not quadratic.
    std::size_t eol = std::max(scan_, eol_search_);
    while (eol < buf_.size() && buf_[eol] != '\n' && buf_[eol] != '\r') ++eol;
    scanned_bytes_ += eol - std::max(scan_, eol_search_);
    eol_search_ = eol;
    if (eol == buf_.size()) break;
    std::size_t next_line = eol + 1;
    if (buf_[eol] == '\r') {
      if (eol + 1 == buf_.size()) break;  // a '\n' may still follow: wait for it
      if (buf_[eol + 1] == '\n') next_line = eol + 2;
    }
    std::string_view line(buf_.data() + scan_, eol - scan_);
    scan_ = next_line;
    eol_search_ = next_line;

    if (line.empty()) {  // blank line: the event is complete
      SseEvent out = std::move(current_);
      current_ = SseEvent{};
      out.raw = std::string_view(buf_).substr(event_start_, scan_ - event_start_);
      event_start_ = scan_;
      return out;
    }
    if (line.front() == ':') continue;  // comment
    std::string_view field = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (current_.has_data) current_.data.push_back('\n');
      current_.data.append(value);
      current_.has_data = true;
    } else if (field == "event") {
      current_.event.assign(value);
    }
  }
  if (buf_.size() - event_start_ > max_event_bytes_) overflowed_ = true;
  return std::nullopt;
}

}  // namespace gw::http
