// upstream::Call in-process against a loopback listener this test scripts: every wait a call
// makes ends at the request's deadline (CallError::deadline), not at the model's own timeout_ms,
// and its own timeout is still reported as such. Without the deadline on the socket, the stall
// cases would wait the model's 60 s timeout: the run's budget fails them first.

#include "gateway/upstream/call.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>

#include "gateway/config/load.hpp"

namespace gw::upstream {
namespace {

using namespace std::chrono_literals;

config::Snapshot model_at(unsigned short port, std::uint32_t timeout_ms) {
  const std::string yaml =
      "server:\n  listen: \"127.0.0.1:0\"\nmodels:\n  m:\n"
      "    upstream: \"http://127.0.0.1:" +
      std::to_string(port) + "/v1\"\n    timeout_ms: " + std::to_string(timeout_ms) + "\n";
  auto loaded = config::load_string(yaml, "test.yaml");
  EXPECT_TRUE(loaded.config) << (loaded.problems.empty() ? "" : loaded.problems[0].str());
  return loaded.config;
}

// Accepts one connection, reads the request, writes `answer` (possibly nothing) and, 20 ms later,
// `later` (if any), then holds the connection open without another byte until the test ends.
net::awaitable<void> stalling_upstream(tcp::acceptor& acceptor, std::string answer,
                                       std::shared_ptr<tcp::socket>& held, std::string later = {}) {
  auto [aec, socket] = co_await acceptor.async_accept(kAsTuple);
  if (aec) co_return;
  held = std::make_shared<tcp::socket>(std::move(socket));
  std::array<char, 4096> request;
  auto [rec, n] = co_await held->async_read_some(net::buffer(request), kAsTuple);
  if (rec || answer.empty()) co_return;
  co_await net::async_write(*held, net::buffer(answer), kAsTuple);
  if (later.empty()) co_return;
  net::steady_timer pause(held->get_executor(), 20ms);
  co_await pause.async_wait(kAsTuple);
  co_await net::async_write(*held, net::buffer(later), kAsTuple);
}

struct Outcome {
  CallError start = CallError::none;
  CallError body = CallError::none;
  bool finished = false;
  Clock::duration took{};
};

net::awaitable<void> call_once(Pool& pool, const config::Model& m, Clock::time_point deadline,
                               Outcome& out) {
  UpstreamLeg leg;
  leg.model = &m;
  const auto started = Clock::now();
  Call call(pool, m, leg, deadline);
  out.start = co_await call.start(std::string("{}"), true, "req-1");
  if (out.start == CallError::none) {
    for (;;) {
      auto [err, piece] = co_await call.read_some();
      if (err != CallError::none || piece.empty()) {
        out.body = err;
        break;
      }
    }
  }
  out.took = Clock::now() - started;
  out.finished = true;
}

// Runs one call against an upstream answering `answer` and then stalling.
Outcome stalled_call(std::string answer, std::uint32_t timeout_ms, Clock::duration until_deadline) {
  net::io_context ioc;
  net::ssl::context tls(net::ssl::context::tls_client);
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto cfg = model_at(acceptor.local_endpoint().port(), timeout_ms);
  std::shared_ptr<tcp::socket> held;
  Outcome out;
  {
    Pool pool(tls);
    net::co_spawn(ioc, stalling_upstream(acceptor, std::move(answer), held), net::detached);
    net::co_spawn(ioc, call_once(pool, cfg->models.at(0), Clock::now() + until_deadline, out),
                  net::detached);
    ioc.run_for(5s);
    pool.shut_down();
  }
  return out;
}

TEST(CallDeadline, SilentUpstreamEndsAtTheRequestDeadlineNotTheModelTimeout) {
  Outcome out = stalled_call("", /*timeout_ms=*/60000, 150ms);
  ASSERT_TRUE(out.finished) << "the call outlived the request deadline";
  EXPECT_EQ(out.start, CallError::deadline);
  EXPECT_GE(out.took, 150ms);
}

TEST(CallDeadline, StallMidBodyEndsAtTheRequestDeadline) {
  const std::string head_and_one_event =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "c\r\ndata: {}\n\n\r\n";
  Outcome out = stalled_call(head_and_one_event, 60000, 150ms);
  ASSERT_TRUE(out.finished) << "the call outlived the request deadline";
  EXPECT_EQ(out.start, CallError::none);
  EXPECT_EQ(out.body, CallError::deadline);
}

// The model's own timeout_ms, before the request's deadline, is the upstream's fault: timeout.
TEST(CallDeadline, ModelTimeoutBeforeTheDeadlineIsATimeout) {
  Outcome out = stalled_call("", /*timeout_ms=*/100, 60s);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.start, CallError::timeout);
}

// read_all reads a whole body into its output in pieces larger than the stream read piece
// (kReadPieceBytes): every byte arrives, in order, and one byte over the limit is too_large.
struct WholeOutcome {
  CallError err = CallError::none;
  std::string body;
  bool finished = false;
};

net::awaitable<void> read_all_once(net::io_context& ioc, Pool& pool, const config::Model& m,
                                   std::size_t limit, WholeOutcome& out) {
  UpstreamLeg leg;
  leg.model = &m;
  Call call(pool, m, leg, Clock::now() + 4s);
  out.err = co_await call.start(std::string("{}"), false, "req-1");
  if (out.err == CallError::none) out.err = co_await call.read_all(out.body, limit);
  out.finished = true;
  ioc.stop();  // the upstream holds its connection open: nothing more to wait for
}

WholeOutcome whole_call(std::string answer, std::size_t limit, std::string later = {}) {
  net::io_context ioc;
  net::ssl::context tls(net::ssl::context::tls_client);
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto cfg = model_at(acceptor.local_endpoint().port(), 60000);
  std::shared_ptr<tcp::socket> held;
  WholeOutcome out;
  {
    Pool pool(tls);
    net::co_spawn(ioc, stalling_upstream(acceptor, std::move(answer), held, std::move(later)),
                  net::detached);
    net::co_spawn(ioc, read_all_once(ioc, pool, cfg->models.at(0), limit, out), net::detached);
    ioc.run_for(5s);
    pool.shut_down();
  }
  return out;
}

std::string pattern_body(std::size_t n) {
  std::string body(n, ' ');
  for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

TEST(CallReadAll, SizedBodyLargerThanAPieceArrivesWhole) {
  const std::string body = pattern_body(300 * 1024 + 7);
  WholeOutcome out = whole_call(
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
      64 * 1024 * 1024);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::none);
  EXPECT_EQ(out.body, body);
}

TEST(CallReadAll, ChunkedBodyArrivesWhole) {
  const std::string body = pattern_body(100 * 1024 + 3);
  std::string chunked;
  for (std::size_t at = 0; at < body.size(); at += 5000) {
    const std::string part = body.substr(at, 5000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", part.size());
    chunked.append(size).append("\r\n").append(part).append("\r\n");
  }
  chunked.append("0\r\n\r\n");
  WholeOutcome out = whole_call("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
                                64 * 1024 * 1024);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::none);
  EXPECT_EQ(out.body, body);
}

// A whole answer's head and body come in one read: the body's chunks are parsed from the read
// buffer (chunk headers between them included) without another read.
TEST(CallReadAll, SmallChunksReadWithTheHeadArriveWhole) {
  const std::string body = pattern_body(700);
  std::string chunked;
  for (std::size_t at = 0; at < body.size(); at += 7) {
    chunked.append(std::to_string(std::min<std::size_t>(7, body.size() - at)))
        .append(";ext=1\r\n")
        .append(body.substr(at, 7))
        .append("\r\n");
  }
  chunked.append("0\r\n\r\n");
  WholeOutcome out =
      whole_call("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 64 * 1024);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::none);
  EXPECT_EQ(out.body, body);
}

// The last chunk's "0\r\n" comes with the head, its final CRLF later: the buffered bytes are
// parsed again only once new ones joined them (Beast 1.81 asserts on "0\r\n" parsed twice
// alone, which the sanitized build, with assertions on, would turn into an abort).
TEST(CallReadAll, LastChunkSplitFromItsEndArrivesWhole) {
  WholeOutcome out =
      whole_call("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
                 64 * 1024, "\r\n");
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::none);
  EXPECT_EQ(out.body, "hello");
}

TEST(CallReadAll, BadChunkReadWithTheHeadIsAProtocolError) {
  WholeOutcome out = whole_call(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n",
      64 * 1024);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::protocol);
}

// Beast bounds no chunk header: one whose extensions never end is refused at
// kMaxUpstreamHeaderBytes, not buffered until the deadline.
TEST(CallReadAll, EndlessChunkExtensionIsAProtocolError) {
  WholeOutcome out = whole_call(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=" + std::string(200 * 1024, 'a'),
      64 * 1024 * 1024);
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.err, CallError::protocol);  // not the deadline, 4 s later
}

TEST(CallReadAll, OneByteOverTheLimitIsTooLarge) {
  const std::string body = pattern_body(70 * 1024 + 1);
  const std::string answer =
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  WholeOutcome over = whole_call(answer, body.size() - 1);
  ASSERT_TRUE(over.finished);
  EXPECT_EQ(over.err, CallError::too_large);
  EXPECT_LE(over.body.size(), body.size() - 1);
  WholeOutcome exact = whole_call(answer, body.size());
  ASSERT_TRUE(exact.finished);
  EXPECT_EQ(exact.err, CallError::none);
  EXPECT_EQ(exact.body, body);
}

}  // namespace
}  // namespace gw::upstream
