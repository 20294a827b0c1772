#pragma once
// Incremental Server-Sent Events parser (WHATWG event-stream rules): bytes arrive in arbitrary
// pieces; complete events come out with their raw bytes, so a relay can forward an event
// unchanged the moment its terminating blank line arrives.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gw::http {

struct SseEvent {
  std::string_view raw;   // the event's bytes including its terminating blank line
  std::string data;       // "data:" lines joined with '\n' (one leading space stripped)
  std::string event;      // the "event:" field, empty when absent
  bool has_data = false;  // false for comment-only or empty events
};

class SseParser {
 public:
  // Bounded: an upstream that never ends an event cannot grow the buffer without limit.
  static constexpr std::size_t kDefaultMaxEventBytes = 4 * 1024 * 1024;

  explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Appends bytes. Views returned by next() before this call become invalid.
  void feed(std::string_view bytes);

  // The next complete event, or nullopt when none is complete yet.
  std::optional<SseEvent> next();

  // True once an incomplete event exceeds the limit: the stream is broken (and bytes fed from
  // then on are dropped).
  bool overflowed() const { return overflowed_; }

  // Bytes received but not yet part of a returned event (an incomplete event).
  std::string_view pending() const { return std::string_view(buf_).substr(event_start_); }

  // Bytes examined while looking for line ends, in all: linear in the input (a test counts it).
  std::size_t scanned_bytes() const { return scanned_bytes_; }

 private:
  std::size_t max_event_bytes_;
  std::string buf_;
  std::size_t event_start_ = 0;  // first byte of the event being assembled
  std::size_t scan_ = 0;         // first byte not yet split into lines
  std::size_t eol_search_ = 0;   // where the search for the current line's end resumes
  std::size_t scanned_bytes_ = 0;
  SseEvent current_;
  bool overflowed_ = false;
  bool started_ = false;
};

}  // namespace gw::http
