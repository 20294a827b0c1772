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

// Accepts one connection, reads the request, writes `answer` (possibly nothing), then holds the
// connection open without another byte until the test ends.
net::awaitable<void> stalling_upstream(tcp::acceptor& acceptor, std::string answer,
                                       std::shared_ptr<tcp::socket>& held) {
  auto [aec, socket] = co_await acceptor.async_accept(kAsTuple);
  if (aec) co_return;
  held = std::make_shared<tcp::socket>(std::move(socket));
  std::array<char, 4096> request;
  auto [rec, n] = co_await held->async_read_some(net::buffer(request), kAsTuple);
  if (rec || answer.empty()) co_return;
  co_await net::async_write(*held, net::buffer(answer), kAsTuple);
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
  out.start = co_await call.start("{}", true, "req-1");
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

}  // namespace
}  // namespace gw::upstream
