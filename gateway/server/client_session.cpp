#include "gateway/server/client_session.hpp"

#include <boost/asio/write.hpp>
#include <random>

#include "gateway/log/access_log.hpp"
#include "gateway/metrics/metrics.hpp"

namespace gw {

namespace {

constexpr std::size_t kMaxClientRequestIdBytes = 64;
// After an error reply to a request we stopped reading (413, 431, 400, 408), the rest of the
// upload is read and dropped for a while, as nginx's lingering close does: closing at once
// would reset the connection and the client would never see the reply.
constexpr std::uint32_t kLingerMs = 2000;
constexpr std::uint64_t kMaxLingerBytes = 64 * 1024 * 1024;
constexpr std::size_t kLingerChunkBytes = 64 * 1024;

// Request ids: a per-process random prefix, the thread, a per-thread counter. No locks.
std::string next_request_id(const ThreadContext& t, std::string_view from_client) {
  if (!from_client.empty() && from_client.size() <= kMaxClientRequestIdBytes &&
      from_client.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
          std::string_view::npos) {
    return std::string(from_client);
  }
  static const std::uint32_t prefix = std::random_device{}();
  thread_local std::uint64_t counter = 0;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%02x-%010llx", prefix, t.index & 0xff,
                static_cast<unsigned long long>(++counter));
  return buf;
}

// Keeps in-flight accounting exact on every exit path.
struct InflightGuard {
  std::atomic<std::int64_t>& n;
  explicit InflightGuard(std::atomic<std::int64_t>& c) : n(c) {
    n.fetch_add(1, std::memory_order_relaxed);
  }
  ~InflightGuard() { n.fetch_sub(1, std::memory_order_relaxed); }
};

// A response for a request we could not read whole; the connection closes after it.
net::awaitable<void> reply_unreadable(ThreadContext& t, beast::tcp_stream& stream,
                                      beast::flat_buffer& buffer, Request& partial,
                                      const ServingSnapshot& snap, unsigned status,
                                      std::string message, std::string code) {
  Exchange ex(t, stream, buffer, partial, snap);
  ex.keep_alive = false;
  ex.trace.method = bhttp::to_string(partial.method());
  ex.trace.path = std::string(partial.target().substr(0, 256));
  ex.trace.request_id = next_request_id(t, {});
  co_await ex.reply_error(http::make_error(status, std::move(message), std::move(code)));
  ex.trace.finished = Clock::now();
  if (t.runtime.log) t.runtime.log->request(ex.trace);

  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::milliseconds(kLingerMs));
  std::vector<char> sink(kLingerChunkBytes);
  for (std::uint64_t dropped = 0; dropped < kMaxLingerBytes;) {
    auto [rec, n] = co_await stream.async_read_some(net::buffer(sink), kAsTuple);
    if (rec) break;  // the client finished (EOF), reset, or the linger time is up
    dropped += n;
  }
}

// 413: the Content-Length, or the bytes read so far, exceed server.max_body_bytes.
net::awaitable<void> reply_too_large(ThreadContext& t, beast::tcp_stream& stream,
                                     beast::flat_buffer& buffer, Request& partial,
                                     const ServingSnapshot& snap) {
  co_await reply_unreadable(
      t, stream, buffer, partial, snap, 413,
      "request body exceeds " + std::to_string(snap->cfg->server.max_body_bytes) + " bytes",
      "request_too_large");
}

}  // namespace

net::awaitable<void> run_client_session(ThreadContext& t, tcp::socket socket, Router route) {
  Runtime& rt = t.runtime;
  beast::tcp_stream stream(std::move(socket));
  stream.socket().set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  auto entry = t.clients.insert(t.clients.end(), {&stream, true});
  bool first = true;

  for (;;) {
    ServingSnapshot snap = rt.config.current();
    const auto& limits = snap->cfg->server;
    bhttp::request_parser<bhttp::string_body> parser;  // a fresh parser per message
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);

    if (rt.draining.load(std::memory_order_relaxed)) break;
    stream.expires_after(
        std::chrono::milliseconds(first ? limits.header_timeout_ms : limits.idle_timeout_ms));
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
    if (hec == bhttp::error::header_limit) {
      Request none;
      co_await reply_unreadable(
          t, stream, buffer, none, snap, 431,
          "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes",
          "request_header_fields_too_large");
      break;
    }
    if (hec == bhttp::error::body_limit) {  // Content-Length over the limit, seen in the head
      co_await reply_too_large(t, stream, buffer, parser.get(), snap);
      break;
    }
    if (hec) {
      // end_of_stream, timeout, reset, drain: a normal end. Malformed bytes get a 400 first.
      if (hec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          hec != bhttp::error::end_of_stream && hec != bhttp::error::partial_message) {
        Request none;
        co_await reply_unreadable(t, stream, buffer, none, snap, 400,
                                  "malformed HTTP request: " + hec.message(), "bad_request");
      }
      break;
    }
    entry->idle = false;
    first = false;
    InflightGuard inflight(rt.inflight_requests);

    // Slow client: the body must arrive within the same allowance as the head.
    stream.expires_after(std::chrono::milliseconds(limits.header_timeout_ms));
    if (parser.get()[bhttp::field::expect] == "100-continue") {
      if (parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
        co_await reply_too_large(t, stream, buffer, parser.get(), snap);
        break;
      }
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      auto [cec, cn] = co_await bhttp::async_write(stream, cont, kAsTuple);
      if (cec) break;
    }
    auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
    if (bec == bhttp::error::body_limit) {
      co_await reply_too_large(t, stream, buffer, parser.get(), snap);
      break;
    }
    if (bec == beast::error::timeout) {
      co_await reply_unreadable(
          t, stream, buffer, parser.get(), snap, 408,
          "request body did not arrive within " + std::to_string(limits.header_timeout_ms) + " ms",
          "request_timeout");
      break;
    }
    if (bec) break;

    Request& req = parser.get();
    Exchange ex(t, stream, buffer, req, snap);
    ex.trace.request_id = next_request_id(t, req["x-request-id"]);
    ex.trace.method = bhttp::to_string(req.method());
    ex.trace.path = std::string(req.target().substr(0, 256));
    stream.expires_at(ex.deadline);
    co_await route(ex);
    ex.trace.finished = Clock::now();
    if (ex.completion && snap->metrics) snap->metrics->record(ex.trace);
    if (rt.log) rt.log->request(ex.trace);
    if (!ex.keep_alive || !ex.head_sent()) break;

    // Back to waiting for a request: drain may close us from now on.
    entry->idle = true;
  }
  t.clients.erase(entry);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

}  // namespace gw
