#include "gateway/log/decision_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/utf8.hpp"
#include "gateway/metrics/cost.hpp"
#include "policies/structured_output.hpp"
#include "policies/tool_calls.hpp"

namespace gw {
namespace {

using nlohmann::json;

json summary_json(const policies::LogprobSummary& s) {
  if (s.n == 0 && !s.first_margin) return nullptr;
  const auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return {{"n", s.n},
          {"mean", opt(s.mean)},
          {"min", opt(s.min)},
          {"p10", opt(s.p10)},
          {"first_margin", opt(s.first_margin)}};
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return ms_between(a, b) / 1000;
}

json leg_json(const UpstreamLeg& leg, const RequestTrace& t, double& cost_out) {
  const LegTokens tokens = tokens_of(leg, t.prompt_chars);
  const double cost = leg.model ? call_cost_usd(leg.model->price, tokens.prompt, tokens.completion,
                                                seconds_between(leg.sent, leg.done))
                                : 0.0;
  cost_out = cost;
  return {{"model", leg.model ? leg.model->name : ""},
          {"status", leg.status},
          {"error", leg.error.empty() ? json(nullptr) : json(std::string(leg.error))},
          {"usage",
           {{"prompt_tokens", tokens.prompt},
            {"completion_tokens", tokens.completion},
            {"estimated", tokens.estimated}}},
          {"cost_usd", cost},
          {"timings_ms",
           {{"upstream", ms_between(leg.prepared, leg.headers)},
            {"ttft", ms_between(leg.prepared, leg.first_token)},
            {"total", ms_between(leg.prepared, leg.done)}}}};
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

std::string decision_line(const RequestTrace& t, const config::Config& cfg, bool with_prompts) {
  const DecisionSignals& s = t.decision;
  if (!s.routed) return {};
  json j;
  j["schema"] = "hg.decision/1";
  j["ts"] = utc_now();
  j["request_id"] = t.request_id;
  j["stream"] = t.stream;
  j["status"] = t.status;
  j["route"] = to_string(t.route);
  j["reason"] = std::string(t.reason);
  j["would_escalate"] = std::string(t.would_escalate);
  j["answered_by"] = t.answered ? t.answered->name : "";
  j["prompt_chars"] = s.prompt_chars;
  if (with_prompts) j["prompt"] = utf8::sanitize(s.prompt_text);
  // Legs in call order: the draft (when the rules saw one, or it failed), then the large model.
  const UpstreamLeg* draft_leg = nullptr;
  const UpstreamLeg* large_leg = nullptr;
  const bool before_draft = t.route == Route::escalated && !s.drafted;
  if (t.leg_count > 0) (before_draft ? large_leg : draft_leg) = &t.legs[0];
  if (t.leg_count > 1 && !before_draft) large_leg = &t.legs[1];
  double cost = 0, draft_cost = 0, large_cost = 0;
  if (draft_leg) {
    json d = leg_json(*draft_leg, t, draft_cost);
    d["chars"] = s.draft_chars;
    d["finish_reason"] = s.finish_reason;
    d["complete"] = s.complete;
    d["refusal_matched"] = s.refusal_matched;
    d["tool_calls"] = s.tool_calls;
    const auto opt_bool = [](const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); };
    d["tool_calls_valid"] = opt_bool(s.tool_calls_valid);
    d["structured_valid"] = opt_bool(s.structured_valid);
    d["logprobs"] = summary_json(s.logprobs);
    d["hold"] = s.hold ? summary_json(*s.hold) : json(nullptr);
    if (with_prompts) d["text"] = utf8::sanitize(s.draft_text);
    j["draft"] = std::move(d);
  } else {
    j["draft"] = nullptr;
  }
  j["escalate"] = large_leg ? leg_json(*large_leg, t, large_cost) : json(nullptr);
  cost = draft_cost + large_cost;
  j["cost_usd"] = cost;
  // What the same tokens would have cost on routing.escalate (gateway_baseline_cost_usd_total).
  double baseline = 0;
  if (const config::Model* large = cfg.find_model(cfg.routing.escalate)) {
    const UpstreamLeg* answer = t.answering_leg();
    if (answer) {
      const LegTokens tk = tokens_of(*answer, t.prompt_chars);
      baseline = call_cost_usd(large->price, tk.prompt, tk.completion, 0);
    }
  }
  j["baseline_cost_usd"] = baseline;
  j["timings_ms"] = {{"total", ms_between(t.received, t.finished)},
                     {"client_ttfb", ms_between(t.received, t.first_byte)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

DecisionLog::DecisionLog(std::size_t backlog_bytes)
    : backlog_bytes_(backlog_bytes), thread_([this] { run(); }) {}

DecisionLog::~DecisionLog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void DecisionLog::append(std::string path, std::uint64_t max_bytes, std::string line) {
  line += '\n';
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + line.size() > backlog_bytes_) {
      ++dropped_;
      return;
    }
    queued_bytes_ += line.size();
    queue_.push_back({std::move(path), max_bytes, std::move(line)});
  }
  wake_.notify_one();
}

void DecisionLog::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

std::uint64_t DecisionLog::dropped_lines() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::uint64_t DecisionLog::write_errors() const {
  std::lock_guard lock(mutex_);
  return write_errors_;
}

void DecisionLog::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= item.line.size();
    writing_ = true;
    lock.unlock();
    write(item);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

void DecisionLog::write(const Item& item) {
  const auto fail = [&] {
    std::lock_guard lock(mutex_);
    ++write_errors_;
  };
  if (item.path != open_path_) {  // first line, or a reload changed the path
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(item.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    open_path_ = item.path;
    struct stat st {};
    file_bytes_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }
  if (fd_ >= 0 && file_bytes_ > 0 && file_bytes_ + item.line.size() > item.max_bytes) {
    // Rotate: PATH -> PATH.1 (the older generation goes), a fresh PATH.
    ::close(fd_);
    std::rename(item.path.c_str(), (item.path + ".1").c_str());
    fd_ = ::open(item.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
    file_bytes_ = 0;
  }
  if (fd_ < 0) {
    fail();
    open_path_.clear();  // try again on the next line
    return;
  }
  std::size_t done = 0;
  while (done < item.line.size()) {
    const ssize_t n = ::write(fd_, item.line.data() + done, item.line.size() - done);
    if (n <= 0) {
      fail();
      return;
    }
    done += static_cast<std::size_t>(n);
  }
  file_bytes_ += done;
}

void note_judged_draft(DecisionSignals& s, const policies::Rules& rules, std::string_view text,
                       std::string_view finish_reason, std::span<const double> logprobs,
                       std::optional<double> first_margin, std::size_t tool_calls, bool complete,
                       bool with_text) {
  s.drafted = true;
  s.draft_chars = utf8::code_points(text);
  s.finish_reason = std::string(finish_reason);
  s.complete = complete;
  s.refusal_matched = rules.first_refusal(text).has_value();
  s.tool_calls = tool_calls;
  s.logprobs = policies::summarize_logprobs(logprobs, first_margin);
  if (!complete) s.hold = s.logprobs;
  if (with_text) s.draft_text = std::string(text);
}

void note_validity(DecisionSignals& s, const policies::Draft& draft) {
  static const policies::RequestedOutput kPlainText;
  const policies::RequestedOutput& requested = draft.requested ? *draft.requested : kPlainText;
  s.tool_calls_valid.reset();
  s.structured_valid.reset();
  if (!draft.tool_calls.empty()) {
    s.tool_calls_valid = !policies::first_tool_call_problem(requested, draft.tool_calls);
  }
  if (draft.complete && policies::kind_of(draft) == policies::AnswerKind::structured) {
    s.structured_valid = !policies::structured_output_problem(requested.format, draft.text);
  }
}

DecisionLog& decision_log() {
  static DecisionLog log;
  return log;
}

void record_decision(const RequestTrace& t, const config::Config& cfg, bool log_prompts) {
  if (cfg.routing.decision_log.empty() || !t.decision.routed) return;
  std::string line = decision_line(t, cfg, log_prompts || cfg.server.log_prompts);
  if (line.empty()) return;
  decision_log().append(cfg.routing.decision_log, cfg.routing.decision_log_max_bytes,
                        std::move(line));
}

}  // namespace gw
