#pragma once
// The decision log (`routing.decision_log: PATH`): one `hg.decision/1` JSON line per routed
// request with every signal the rules read, the route and reason, each leg's tokens and cost,
// the baseline cost and stage timings: the user's own traffic, ready for `eval calibrate`.
//
// Off the request's critical path: the request thread formats its line and queues it; a writer
// thread of the log's own appends it. The queue is bounded in bytes (a full queue drops the line
// and counts it); the file is bounded by `routing.decision_log_max_bytes`: past it the file is
// renamed to PATH.1 (replacing an older one) and a new PATH begins.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "gateway/config/config.hpp"
#include "gateway/trace/request_trace.hpp"
#include "policies/judge.hpp"
#include "policies/rules.hpp"

namespace gw {

// Lines waiting for the writer, at most.
inline constexpr std::size_t kDecisionBacklogBytes = 4 * 1024 * 1024;

// The line for one routed request (no newline); empty when the request was not routed.
std::string decision_line(const RequestTrace& t, const config::Config& cfg, bool with_prompts);

class DecisionLog {
 public:
  explicit DecisionLog(std::size_t backlog_bytes = kDecisionBacklogBytes);
  ~DecisionLog();  // writes out what is queued
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Queues `line` for `path` (rotated past `max_bytes`). Never blocks on I/O.
  void append(std::string path, std::uint64_t max_bytes, std::string line);
  // Blocks until everything queued so far is written (tests, shutdown).
  void flush();

  std::uint64_t dropped_lines() const;
  std::uint64_t write_errors() const;

 private:
  struct Item {
    std::string path;
    std::uint64_t max_bytes;
    std::string line;
  };
  void run();
  void write(const Item& item);

  std::size_t backlog_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stop_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t write_errors_ = 0;
  std::string open_path_;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;
  std::thread thread_;
};

// The tool-call and structured-output validity of a judged draft (what invalid_tool_call and
// invalid_json read), whether or not those rules are on.
void note_validity(DecisionSignals& s, const policies::Draft& draft);

// Notes what the judge read of a draft (the last call wins: the verdict's inputs; a judged
// prefix is kept apart in `hold`). The refusal patterns are searched again here, only while a
// decision log is on.
void note_judged_draft(DecisionSignals& s, const policies::Rules& rules, std::string_view text,
                       std::string_view finish_reason, std::span<const double> logprobs,
                       std::optional<double> first_margin, std::size_t tool_calls, bool complete,
                       bool with_text);

// The process's decision log (one writer thread, started on first use).
DecisionLog& decision_log();

// Queues the line of a finished request when its config has a decision log.
void record_decision(const RequestTrace& t, const config::Config& cfg, bool log_prompts);

}  // namespace gw
