#include "gateway/log/access_log.hpp"

#include "gateway/http/json_text.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace gw {

namespace {

void append_timestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  // The date and time change once a second: format them once a second per thread.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[24];
  thread_local std::size_t cached_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  char millis[8] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                    static_cast<char>('0' + ms % 10), 'Z'};
  out.append("{\"ts\":\"").append(cached, cached_len).append(millis, 5).append("\"");
}

void field(std::string& out, std::string_view key, std::string_view value) {
  out.append(",\"").append(key).append("\":");
  http::append_json_string(out, value);
}

void number(std::string& out, std::string_view key, double value) {
  char buf[48];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3);
  out.append(",\"").append(key).append("\":").append(buf, end);
}

void integer(std::string& out, std::string_view key, unsigned long long value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(",\"").append(key).append("\":").append(buf, end);
}

// A leg's keys, spelled out: no key is assembled per request.
struct LegKeys {
  std::string_view model, error, status, prompt_tokens, completion_tokens;
};
constexpr LegKeys kLegKeys[] = {
    {"leg1_model", "leg1_error", "leg1_status", "leg1_prompt_tokens", "leg1_completion_tokens"},
    {"leg2_model", "leg2_error", "leg2_status", "leg2_prompt_tokens", "leg2_completion_tokens"},
};

}  // namespace

// The writer thread and the backlog it empties. Callers hold the mutex only to append a line.
struct AccessLog::Writer {
  Writer(int fd, std::size_t backlog) : fd(fd), backlog_bytes(backlog) {}

  const int fd;
  const std::size_t backlog_bytes;
  std::mutex mu;
  std::condition_variable wake;     // a line arrived for an idle writer, a batch is full, or stop
  std::condition_variable emptied;  // the writer caught up (or gave up)
  std::string pending;              // guarded by mu
  bool writing = false;             // guarded by mu
  bool idle = false;                // guarded by mu: waiting for a first line, no batch open
  bool stop = false;                // guarded by mu
  std::atomic<std::uint64_t> dropped{0};

  void run() {
    std::string out;  // swapped with `pending`: both keep their capacity, no allocation per line
    std::unique_lock lock(mu);
    for (;;) {
      idle = true;
      wake.wait(lock, [&] { return !pending.empty() || stop; });
      idle = false;
      // Under load lines arrive thousands a second: gather them for up to kLogFlushIntervalMs
      // (or until kLogFlushBytes wait) so this thread wakes and writes once per batch, not once
      // per request (a wake-up per request cost the event loop's core 17% at 24k req/s).
      wake.wait_for(lock, std::chrono::milliseconds(kLogFlushIntervalMs),
                    [&] { return stop || pending.size() >= kLogFlushBytes; });
      if (pending.empty()) break;  // stop, and nothing left
      out.swap(pending);
      writing = true;
      lock.unlock();
      write_all(out);
      out.clear();
      lock.lock();
      writing = false;
      if (pending.empty()) emptied.notify_all();
    }
    emptied.notify_all();
  }

  void write_all(const std::string& bytes) const {
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      auto n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a closed log must not take requests down with it
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
};

AccessLog::AccessLog(int fd, std::size_t backlog_bytes)
    : writer_(std::make_shared<Writer>(fd, backlog_bytes)), thread_([w = writer_] { w->run(); }) {}

AccessLog::~AccessLog() {
  std::unique_lock lock(writer_->mu);
  writer_->stop = true;
  writer_->wake.notify_one();
  bool flushed =
      writer_->emptied.wait_for(lock, std::chrono::milliseconds(kLogShutdownFlushMs),
                                [&] { return writer_->pending.empty() && !writer_->writing; });
  lock.unlock();
  if (flushed) {
    thread_.join();
  } else {
    // Stdout stayed stalled past the deadline: the thread, which owns a reference to the
    // writer, is left behind (the process is exiting) rather than hanging the exit.
    thread_.detach();
  }
}

std::uint64_t AccessLog::dropped_lines() const {
  return writer_->dropped.load(std::memory_order_relaxed);
}

void AccessLog::write_line(std::string& line) const {
  line.append("}\n");
  Writer& w = *writer_;
  bool wake_writer = false;
  {
    std::lock_guard lock(w.mu);
    if (w.pending.size() + line.size() > w.backlog_bytes) {
      w.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const bool batch_fills =
        w.pending.size() < kLogFlushBytes && w.pending.size() + line.size() >= kLogFlushBytes;
    wake_writer = (w.idle && w.pending.empty()) || batch_fills;
    w.pending.append(line);  // whole lines only: lines from several threads never interleave
  }
  if (wake_writer) w.wake.notify_one();  // otherwise the writer has a batch open already
}

void AccessLog::request(const RequestTrace& t) const {
  std::string line;
  line.reserve(384);
  append_timestamp(line);
  field(line, "level", t.status >= 500 ? "warn" : "info");
  field(line, "event", "request");
  field(line, "id", t.request_id);
  field(line, "method", t.method);
  field(line, "path", t.path);
  integer(line, "status", t.status);
  number(line, "duration_ms", ms_between(t.received, t.finished));
  integer(line, "bytes", t.bytes_out);
  if (!t.model_requested.empty()) {
    field(line, "model", t.model_requested);
    field(line, "route", to_string(t.route));
    if (t.answered) field(line, "answered_by", t.answered->name);
    line.append(",\"stream\":").append(t.stream ? "true" : "false");
  }
  if (!t.reason.empty()) field(line, "reason", t.reason);
  if (!t.would_escalate.empty()) field(line, "would_escalate", t.would_escalate);
  if (t.first_byte != Clock::time_point{}) {
    number(line, "first_byte_ms", ms_between(t.received, t.first_byte));
  }
  for (int i = 0; i < t.leg_count; ++i) {
    const auto& leg = t.legs[i];
    const LegKeys& key = kLegKeys[i == 0 ? 0 : 1];
    field(line, key.model, leg.model ? std::string_view(leg.model->name) : "");
    if (!leg.error.empty()) field(line, key.error, leg.error);
    integer(line, key.status, leg.status);
    if (leg.prompt_tokens || leg.completion_tokens) {
      integer(line, key.prompt_tokens, leg.prompt_tokens);
      integer(line, key.completion_tokens, leg.completion_tokens);
    }
  }
  if (!t.error.empty()) field(line, "error", t.error);
  if (!t.prompt.empty()) field(line, "prompt", t.prompt);
  write_line(line);
}

void AccessLog::event(std::string_view level, std::string_view event, std::string_view message,
                      std::string_view extra_json) const {
  std::string line;
  append_timestamp(line);
  field(line, "level", level);
  field(line, "event", event);
  field(line, "message", message);
  if (!extra_json.empty()) line.append(",").append(extra_json);
  write_line(line);
}

}  // namespace gw
