#pragma once
// Structured logs: one JSON object per line on stdout. One line per request; events for
// startup, reload and shutdown. No secrets; prompt text only with server.log_prompts.
//
// Never blocks the caller (an event-loop thread): lines go to a bounded in-memory backlog that
// a writer thread of its own empties into the fd, in batches (kLogFlushIntervalMs). A consumer that
// stops reading (a full pipe, a stalled journald) costs lines, counted in dropped_lines(), never a
// stalled request.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "gateway/trace/request_trace.hpp"

namespace gw {

// Log lines waiting for the writer, at most (a few thousand request lines).
inline constexpr std::size_t kLogBacklogBytes = 1024 * 1024;
// Lines are written in batches: a line reaches the fd at most this long after it is logged (plus
// the write itself), or sooner once kLogFlushBytes are waiting. Like nginx's `buffer=`/`flush=`.
inline constexpr std::uint32_t kLogFlushIntervalMs = 50;
inline constexpr std::size_t kLogFlushBytes = 64 * 1024;
// On destruction the backlog is written out; a consumer stalled for longer than this loses it.
inline constexpr std::uint32_t kLogShutdownFlushMs = 3000;

class AccessLog {
 public:
  explicit AccessLog(int fd = 1, std::size_t backlog_bytes = kLogBacklogBytes);
  ~AccessLog();  // writes out what is queued (bounded by kLogShutdownFlushMs)
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void request(const RequestTrace& t) const;
  // {"ts":..., "level":level, "event":event, "message":message, <extra_json members>}
  void event(std::string_view level, std::string_view event, std::string_view message,
             std::string_view extra_json = {}) const;

  // Lines lost because the backlog was full.
  std::uint64_t dropped_lines() const;

 private:
  struct Writer;
  void write_line(std::string& line) const;
  std::shared_ptr<Writer> writer_;  // shared with its thread, which may outlive a stalled flush
  std::thread thread_;
};

}  // namespace gw
