#include "gateway/log/access_log.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gw {
namespace {

using nlohmann::json;

// A pipe that the log writes into; everything written is read back after.
class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe(fds_), 0); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  int write_fd() const { return fds_[1]; }
  int read_fd() const { return fds_[0]; }
  std::string drain() {
    ::close(fds_[1]);
    fds_[1] = -1;
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds_[0], buf, sizeof buf)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

config::Model named(std::string name) {
  config::Model m;
  m.name = std::move(name);
  return m;
}

const config::Model kSmall = named("small");
const config::Model kBig = named("big");

RequestTrace direct_trace() {
  RequestTrace t;
  t.received = Clock::time_point{} + std::chrono::hours(1);
  t.finished = t.received + std::chrono::microseconds(12345);
  t.request_id = "req-1";
  t.method = "POST";
  t.path = "/v1/chat/completions";
  t.status = 200;
  t.bytes_out = 987;
  return t;
}

json log_one(const RequestTrace& t) {
  Pipe p;
  AccessLog(p.write_fd()).request(t);
  std::string out = p.drain();
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line: " << out;
  return json::parse(out);
}

TEST(AccessLog, RequestLineHasCoreFields) {
  auto j = log_one(direct_trace());
  EXPECT_TRUE(j["ts"].is_string());
  EXPECT_EQ(j["ts"].get<std::string>().size(), 24u);  // 2024-01-02T03:04:05.678Z
  EXPECT_EQ(j["ts"].get<std::string>().back(), 'Z');
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["event"], "request");
  EXPECT_EQ(j["id"], "req-1");
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/v1/chat/completions");
  EXPECT_EQ(j["status"], 200);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.345);
  EXPECT_EQ(j["bytes"], 987);
  // Not a chat request: no model fields, no legs, no prompt.
  for (const char* key : {"model", "route", "answered_by", "stream", "reason", "first_byte_ms",
                          "leg1_model", "error", "prompt"}) {
    EXPECT_FALSE(j.contains(key)) << key;
  }
}

TEST(AccessLog, ServerErrorIsWarn) {
  auto t = direct_trace();
  t.status = 502;
  t.error = "upstream \"big\" connect refused";
  auto j = log_one(t);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["error"], "upstream \"big\" connect refused");
}

TEST(AccessLog, RoutedRequest) {
  auto t = direct_trace();
  t.model_requested = "auto";
  t.answered = &kBig;
  t.route = Route::escalated;
  t.reason = "chars_under";
  t.stream = true;
  t.first_byte = t.received + std::chrono::milliseconds(40);
  auto& draft = t.new_leg(kSmall);
  draft.status = 200;
  draft.prompt_tokens = 11;
  draft.completion_tokens = 2;
  auto& big = t.new_leg(kBig);
  big.status = 200;
  auto j = log_one(t);
  EXPECT_EQ(j["model"], "auto");
  EXPECT_EQ(j["route"], "escalated");
  EXPECT_EQ(j["answered_by"], "big");
  EXPECT_EQ(j["reason"], "chars_under");
  EXPECT_EQ(j["stream"], true);
  EXPECT_DOUBLE_EQ(j["first_byte_ms"].get<double>(), 40.0);
  EXPECT_EQ(j["leg1_model"], "small");
  EXPECT_EQ(j["leg1_status"], 200);
  EXPECT_EQ(j["leg1_prompt_tokens"], 11);
  EXPECT_EQ(j["leg1_completion_tokens"], 2);
  EXPECT_EQ(j["leg2_model"], "big");
  EXPECT_EQ(j["leg2_status"], 200);
  EXPECT_FALSE(j.contains("leg2_prompt_tokens"));  // no counts known
  EXPECT_FALSE(j.contains("leg1_error"));
  EXPECT_FALSE(j.contains("prompt"));
}

TEST(AccessLog, DirectChatRequest) {
  auto t = direct_trace();
  t.model_requested = "small";
  t.answered = &kSmall;
  auto j = log_one(t);
  EXPECT_EQ(j["route"], "direct");
  EXPECT_EQ(j["stream"], false);
  EXPECT_FALSE(j.contains("reason"));
}

TEST(AccessLog, FailedLegAndNoAnsweringModel) {
  auto t = direct_trace();
  t.status = 502;
  t.model_requested = "small";
  auto& leg = t.new_leg(kSmall);
  leg.status = 0;
  leg.error = "connect";
  auto j = log_one(t);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["leg1_model"], "small");
  EXPECT_EQ(j["leg1_error"], "connect");
  EXPECT_EQ(j["leg1_status"], 0);
  EXPECT_FALSE(j.contains("answered_by"));  // nothing answered
}

TEST(AccessLog, WouldEscalate) {
  auto t = direct_trace();
  t.model_requested = "auto";
  t.route = Route::draft;
  t.would_escalate = "refusal";
  EXPECT_EQ(log_one(t)["would_escalate"], "refusal");
}

TEST(AccessLog, PromptOnlyWhenSet) {
  auto t = direct_trace();
  t.model_requested = "auto";
  EXPECT_FALSE(log_one(t).contains("prompt"));
  t.prompt = "line one\n\"quoted\" \x01 end";
  EXPECT_EQ(log_one(t)["prompt"], "line one\n\"quoted\" \x01 end");
}

TEST(AccessLog, EscapesHostileFields) {
  auto t = direct_trace();
  t.request_id = "id\"}\n{\"injected\":true";
  t.path = "/v1/x?a=\"b\"\\";
  auto j = log_one(t);  // one line, parseable
  EXPECT_EQ(j["id"], "id\"}\n{\"injected\":true");
  EXPECT_EQ(j["path"], "/v1/x?a=\"b\"\\");
  EXPECT_FALSE(j.contains("injected"));
}

TEST(AccessLog, EventLine) {
  Pipe p;
  AccessLog(p.write_fd()).event("info", "startup", "listening on :8080", R"("port":8080)");
  std::string out = p.drain();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  auto j = json::parse(out);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["event"], "startup");
  EXPECT_EQ(j["message"], "listening on :8080");
  EXPECT_EQ(j["port"], 8080);
}

TEST(AccessLog, ClosedFdDoesNotThrowOrCrash) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  AccessLog log(fds[1]);  // EBADF on write: the log gives up quietly
  EXPECT_NO_FATAL_FAILURE(log.request(direct_trace()));
}

// A consumer that stops reading (a full pipe) must cost lines, never block the caller: with a
// blocking write per line this test would hang on the first line past the pipe's capacity.
TEST(AccessLog, StalledConsumerDropsLinesInsteadOfBlocking) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr std::size_t kBacklogBytes = 4096;
  constexpr int kLines = 5000;  // ~1 MB of lines: far more than the pipe and the backlog hold
  std::string all;
  std::thread reader;
  {
    AccessLog log(fds[1], kBacklogBytes);
    for (int i = 0; i < kLines; ++i) log.request(direct_trace());
    EXPECT_GT(log.dropped_lines(), 0u);
    EXPECT_LT(log.dropped_lines(), static_cast<std::uint64_t>(kLines));
    // The consumer comes back: what was queued is written out, whole lines only.
    reader = std::thread([&all, fd = fds[0]] {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, n);
    });
  }  // the destructor flushes the backlog
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), '\n');
  std::size_t start = 0;
  for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_TRUE(json::accept(all.substr(start, nl - start)));
  }
}

// Lines are written in batches, but one logged on an idle log must not wait for the next line
// or for shutdown: it reaches the fd within about kLogFlushIntervalMs, and so does the next one
// once the writer is idle again.
TEST(AccessLog, LineOnAnIdleLogArrivesWithoutShutdown) {
  Pipe p;
  auto read_line_within = [fd = p.read_fd()](std::chrono::milliseconds limit) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) == 1) {
        char buf[4096];
        auto n = ::read(fd, buf, sizeof buf);
        if (n > 0) got.append(buf, static_cast<std::size_t>(n));
      }
    }
    return got;
  };
  // Generous for a loaded sanitizer run; the interval itself is 50 ms.
  constexpr std::chrono::milliseconds kLimit{5000};
  {
    AccessLog log(p.write_fd());
    log.event("info", "first", "m");
    std::string first = read_line_within(kLimit);
    EXPECT_NE(first.find("\"event\":\"first\""), std::string::npos) << first;
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * kLogFlushIntervalMs));
    log.event("info", "second", "m");
    std::string second = read_line_within(kLimit);
    EXPECT_NE(second.find("\"event\":\"second\""), std::string::npos) << second;
  }
}

TEST(AccessLog, EverythingQueuedIsWrittenOnDestruction) {
  Pipe p;
  constexpr int kLines = 100;
  {
    AccessLog log(p.write_fd());
    for (int i = 0; i < kLines; ++i) log.event("info", "e", "m");
    EXPECT_EQ(log.dropped_lines(), 0u);
  }
  std::string out = p.drain();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), kLines);
}

// Every I/O thread logs through one AccessLog: lines from several threads arrive whole (never
// interleaved) and none is lost while the backlog has room. Also run under ThreadSanitizer.
TEST(AccessLog, LinesFromManyThreadsArriveWhole) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 500;  // ~150 KB: more than a pipe holds, less than the backlog
  std::string all;
  std::thread reader([&all, fd = fds[0]] {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, n);
  });
  {
    AccessLog log(fds[1]);
    std::vector<std::thread> writers;
    writers.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&log, t] {
        for (int i = 0; i < kLinesPerThread; ++i) {
          log.event("info", "e", "m", "\"thread\":" + std::to_string(t));
        }
      });
    }
    for (auto& w : writers) w.join();
    EXPECT_EQ(log.dropped_lines(), 0u);
  }  // the destructor flushes and joins the writer thread
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  std::array<int, kThreads> per_thread{};
  std::size_t start = 0;
  for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto j = json::parse(all.substr(start, nl - start), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << all.substr(start, nl - start);
    ++per_thread.at(j["thread"].get<std::size_t>());
  }
  EXPECT_EQ(start, all.size());
  for (int n : per_thread) EXPECT_EQ(n, kLinesPerThread);
}

}  // namespace
}  // namespace gw
