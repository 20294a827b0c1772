// until_client_leaves() in-process, over a real Exchange on a loopback socket pair: the work's
// answer, the client hanging up (499), and the backstop cut at the deadline plus its grace when
// the work never answers (504 request_timeout, on the wire).

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <functional>

#include "fakes.hpp"
#include "gateway/chat/forward.hpp"
#include "gateway/upstream/pool.hpp"

namespace gw::chat {
namespace {

using namespace std::chrono_literals;
using testing::FakeModels;
using testing::serving_with;

// A client connection, its server side wrapped in an Exchange as a session would make it.
struct Connected {
  explicit Connected(std::uint32_t request_timeout_ms)
      : serving(serving_with("", request_timeout_ms)) {
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept());
    req.method(bhttp::verb::post);
    req.target("/v1/chat/completions");
    req.version(11);
    ex.emplace(deps, *server, buffer, req, serving, cancel);
  }

  net::io_context ioc;
  net::ssl::context tls{net::ssl::context::tls_client};
  upstream::Pool pool{tls};
  FakeModels models;
  std::atomic<bool> draining{false};
  HandlerDeps deps{models, pool, ioc, draining};
  ServingSnapshot serving;
  tcp::socket client{ioc};
  std::optional<beast::tcp_stream> server;
  beast::flat_buffer buffer;
  Request req;
  net::cancellation_signal cancel;  // bound to the coroutine under test, as a session's is
  std::optional<Exchange> ex;
  bool finished = false;
  std::string thrown;  // what the work threw, if until_client_leaves passed it on

  // What the client has received: the server side is closed first (as the session would once
  // the exchange ends), so the read ends at its EOF.
  std::string received() {
    error_code ignored;
    server->socket().close(ignored);
    std::string got;
    std::array<char, 4096> buf;
    for (;;) {
      error_code ec;
      auto n = client.read_some(net::buffer(buf), ec);
      if (ec || n == 0) break;
      got.append(buf.data(), n);
    }
    return got;
  }
};

net::awaitable<void> never_answers(net::io_context& ioc) {
  net::steady_timer forever(ioc, std::chrono::hours(1));
  co_await forever.async_wait(kAsTuple);
}

net::awaitable<void> answers(Exchange& ex) {
  co_await ex.reply(200, "{}", "application/json");
}

net::awaitable<void> answers_after(Exchange& ex, std::chrono::milliseconds delay) {
  net::steady_timer t(ex.client.get_executor(), delay);
  co_await t.async_wait(kAsTuple);
  co_await ex.reply(200, "{}", "application/json");
}

net::awaitable<void> throws() {
  throw std::runtime_error("a bug in the work");
  co_return;
}

net::awaitable<void> watched(Connected& c, net::awaitable<void> work) {
  try {
    co_await until_client_leaves(*c.ex, std::move(work));
  } catch (const std::runtime_error& e) {
    c.thrown = e.what();
  }
  c.finished = true;
}

// Runs `watched` as run_client_session runs a session: with the exchange's signal bound.
void spawn(Connected& c, net::awaitable<void> session) {
  net::co_spawn(c.ioc, std::move(session),
                net::bind_cancellation_slot(c.cancel.slot(), net::detached));
}

// Runs `act` on the io_context after `delay`, as the client's side of the test.
void after(Connected& c, std::chrono::milliseconds delay, std::function<void()> act) {
  auto t = std::make_shared<net::steady_timer>(c.ioc, delay);
  t->async_wait([t, act = std::move(act)](const error_code&) { act(); });
}

// Lets the reactor take the socket's readiness before the watch starts, as the session's read
// of the request does: a watch that only waited for the next readiness event would miss it.
void readiness_taken(Connected& c) {
  net::steady_timer t(c.ioc, 20ms);
  t.async_wait([](const error_code&) {});
  c.ioc.run();
  c.ioc.restart();
}

std::string buffered(const beast::flat_buffer& b) {
  return beast::buffers_to_string(b.data());
}

TEST(UntilClientLeaves, TheWorksAnswerIsTheAnswer) {
  Connected c(5000);
  spawn(c, watched(c, answers(*c.ex)));
  c.ioc.run_for(2s);
  ASSERT_TRUE(c.finished);
  EXPECT_EQ(c.ex->trace.status, 200u);
  EXPECT_TRUE(c.ex->keep_alive);
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

// Runs a work that never answers, watched; its client leaves: the work must end with it, logged
// as a 499 on a connection that closes.
void expect_work_ends_with_its_client(Connected& c) {
  spawn(c, watched(c, never_answers(c.ioc)));
  c.ioc.run_for(2s);
  ASSERT_TRUE(c.finished) << "the work outlived its client";
  EXPECT_EQ(c.ex->trace.status, 499u);
  EXPECT_FALSE(c.ex->keep_alive);
}

TEST(UntilClientLeaves, ClientHangingUpCancelsTheWork) {
  Connected c(5000);
  c.client.close();
  readiness_taken(c);
  expect_work_ends_with_its_client(c);
  EXPECT_EQ(c.ex->trace.error, "client_gone");
}

// A work that never answers (every upstream wait has the deadline, so this is the backstop) is
// cut at the deadline plus the grace, and the client is told so on the wire.
TEST(UntilClientLeaves, WorkThatNeverAnswersIsCutWithA504OnTheWire) {
  Connected c(200);
  const auto started = Clock::now();
  spawn(c, watched(c, never_answers(c.ioc)));
  c.ioc.run_for(4s);
  ASSERT_TRUE(c.finished) << "the work was not cut";
  EXPECT_GE(Clock::now() - started, 200ms);
  EXPECT_EQ(c.ex->trace.status, 504u);
  EXPECT_EQ(c.ex->trace.error, kRequestTimeoutCode);
  EXPECT_FALSE(c.ex->keep_alive);
  const std::string got = c.received();
  EXPECT_EQ(got.rfind("HTTP/1.1 504 ", 0), 0u) << got;
  EXPECT_NE(got.find(kRequestTimeoutCode), std::string::npos) << got;
}

// Bytes sent before the watch starts (their readiness already taken by the reactor) and while
// the work runs are kept, in order, for the session's next request; the work is not disturbed
// by them.
TEST(UntilClientLeaves, BytesPipelinedMeanwhileAreKeptForTheNextRequest) {
  Connected c(5000);
  net::write(c.client, net::buffer(std::string_view("GET /first")));
  readiness_taken(c);
  after(c, 50ms, [&] { net::write(c.client, net::buffer(std::string_view(" HTTP/1.1\r\n"))); });
  spawn(c, watched(c, answers_after(*c.ex, 150ms)));
  c.ioc.run_for(2s);
  ASSERT_TRUE(c.finished);
  EXPECT_EQ(c.ex->trace.status, 200u);
  EXPECT_TRUE(c.ex->keep_alive);
  EXPECT_EQ(buffered(c.buffer), "GET /first HTTP/1.1\r\n");
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(UntilClientLeaves, ClientHangingUpMidWorkCancelsIt) {
  Connected c(5000);
  after(c, 50ms, [&] { c.client.close(); });
  const auto started = Clock::now();
  expect_work_ends_with_its_client(c);
  EXPECT_LT(Clock::now() - started, 1s);
}

// Not swallowed as if the client had gone: the session answers a work that threw (500).
TEST(UntilClientLeaves, WorkThatThrowsIsPassedOnToTheSession) {
  Connected c(5000);
  spawn(c, watched(c, throws()));
  c.ioc.run_for(2s);
  ASSERT_TRUE(c.finished);
  EXPECT_EQ(c.thrown, "a bug in the work");
}

}  // namespace
}  // namespace gw::chat
