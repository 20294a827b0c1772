#include "gateway/server/client_session.hpp"

#include <boost/asio/write.hpp>
#include <random>

#include "gateway/http/json_text.hpp"
#include "gateway/log/access_log.hpp"
#include "gateway/log/decision_log.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/server/request_framing.hpp"

namespace gw {

namespace {

constexpr std::size_t kMaxClientRequestIdBytes = 64;
// After an error reply to a request we stopped reading (413, 431, 400, 408), the rest of the
// upload is read and dropped for a while, as nginx's lingering close does: closing at once
// would reset the connection and the client would never see the reply.
constexpr std::uint32_t kLingerMs = 2000;
constexpr std::uint64_t kMaxLingerBytes = 64 * 1024 * 1024;
constexpr std::size_t kLingerChunkBytes = 64 * 1024;
// A request cut short (drain timeout, handler failure) gets this long to write its last words.
constexpr std::uint32_t kLastWordsMs = 1000;

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

// Bounded: the request target as logged.
constexpr std::size_t kMaxLoggedTargetBytes = 256;

// Keeps in-flight accounting exact on every exit path, exceptions included.
class InflightGuard {
 public:
  explicit InflightGuard(std::atomic<std::int64_t>& c) : n_(c) {
    n_.fetch_add(1, std::memory_order_relaxed);
  }
  ~InflightGuard() { n_.fetch_sub(1, std::memory_order_relaxed); }
  InflightGuard(const InflightGuard&) = delete;
  InflightGuard& operator=(const InflightGuard&) = delete;

 private:
  std::atomic<std::int64_t>& n_;
};

// A connection's entry in its thread's client list, erased on every exit path: a leftover
// entry would point at a destroyed stream, and drain walks the list.
class ClientRegistration {
 public:
  ClientRegistration(std::list<ThreadContext::ClientEntry>& list, beast::tcp_stream& stream)
      : list_(list), it_(list.insert(list.end(), {&stream, true, nullptr})) {}
  ~ClientRegistration() { list_.erase(it_); }
  ClientRegistration(const ClientRegistration&) = delete;
  ClientRegistration& operator=(const ClientRegistration&) = delete;
  ThreadContext::ClientEntry* operator->() { return &*it_; }

 private:
  std::list<ThreadContext::ClientEntry>& list_;
  std::list<ThreadContext::ClientEntry>::iterator it_;
};

// Publishes the exchange being answered (for a drain cut) and withdraws it on every exit path.
class ExchangeInFlight {
 public:
  ExchangeInFlight(ClientRegistration& reg, Exchange& ex) : reg_(reg) {
    reg_->exchange = &ex;
    reg_->idle = false;
  }
  ~ExchangeInFlight() { reg_->exchange = nullptr; }
  ExchangeInFlight(const ExchangeInFlight&) = delete;
  ExchangeInFlight& operator=(const ExchangeInFlight&) = delete;

 private:
  ClientRegistration& reg_;
};

// A response for a request we could not read whole; the connection closes after it.
net::awaitable<void> reply_unreadable(ThreadContext& t, beast::tcp_stream& stream,
                                      beast::flat_buffer& buffer, Request& partial,
                                      const ServingSnapshot& snap, unsigned status,
                                      std::string message, std::string code) {
  net::cancellation_signal no_work;  // an error reply runs no work to cancel
  Exchange ex(t.deps, stream, buffer, partial, snap, no_work);
  ex.keep_alive = false;
  ex.trace.method = bhttp::to_string(partial.method());
  ex.trace.path = snap->secrets.cut(partial.target(), kMaxLoggedTargetBytes);
  ex.trace.request_id = next_request_id(t, {});
  co_await ex.reply_error(http::make_error(status, std::move(message), std::move(code)));
  ex.trace.finished = Clock::now();
  http::redact_log_fields(snap->secrets, ex.trace);
  if (t.runtime.log) t.runtime.log->request(ex.trace);
  record_decision(ex.trace, ex.cfg(), t.runtime.log_prompts);

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

// Reads of a request body take up to this much at a time.
constexpr std::size_t kBodyReadBytes = 64 * 1024;

// The connection's read buffer holds what is not parsed yet: a head, the body bytes of one read,
// a chunk header, pipelined bytes. Beast bounds none of it on its own (a chunk header's
// extensions have no limit): a client sending one without end grew the buffer at line rate
// until the body's deadline. Past this, reading fails (buffer_overflow: a 400).
std::size_t client_buffer_limit(const config::Server& limits) {
  return std::max<std::size_t>(kMaxPipelinedBytes, limits.max_header_bytes + kBodyReadBytes);
}

// Reads the rest of the body within `allowance`. On expiry the read is cancelled, not the
// socket closed (tcp_stream's own timeout closes it), so the 408 can still be delivered.
net::awaitable<error_code> read_body_within(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                            bhttp::request_parser<RequestBody>& parser,
                                            std::chrono::milliseconds allowance) {
  if (parser.is_done()) co_return error_code{};  // no body (a GET): nothing to wait for
  // A sized body that came whole with its head (most do) is parsed here: no timer, no read
  // operation. Only whole: Beast's read parses what is buffered again before reading more.
  const auto remaining = parser.content_length_remaining();
  if (remaining && buffer.size() >= *remaining) {
    error_code ec;
    parser.eager(true);
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec || parser.is_done()) co_return ec;
  }
  enum class Timer { armed, fired, disarmed };
  auto state = std::make_shared<Timer>(Timer::armed);
  stream.expires_never();
  net::steady_timer timer(stream.get_executor(), allowance);
  timer.async_wait([state, &socket = stream.socket()](const error_code& ec) {
    if (ec || *state != Timer::armed) return;  // the read ended first: the socket may be gone
    *state = Timer::fired;
    error_code ignored;
    socket.cancel(ignored);
  });
  // Beast reads what the buffer's spare capacity holds (512 bytes at least): a 1 MB body in
  // a 1 KiB buffer was ~1,000 reads, 3/4 of the CPU of such a request (docs/benchmarks.md).
  // Reads of up to kBodyReadBytes instead; the buffer shrinks back afterwards, so a keep-alive
  // or streaming connection does not hold on to it.
  constexpr std::size_t kKeptBufferBytes = 4096;
  const std::size_t expected = parser.content_length().value_or(0);
  if (expected > buffer.capacity()) buffer.reserve(std::min(expected, kBodyReadBytes));
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
  if (buffer.capacity() > kKeptBufferBytes && buffer.size() < kKeptBufferBytes) {
    buffer.shrink_to_fit();
  }
  const bool fired = *state == Timer::fired;
  *state = Timer::disarmed;
  timer.cancel();
  if (ec && fired) co_return beast::error::timeout;
  co_return ec;
}

// Malformed bytes (a bad chunk size, a bad header) as opposed to the peer going away.
bool is_framing_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

std::vector<std::string_view> transfer_codings(const Request& req) {
  std::vector<std::string_view> out;
  auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) out.emplace_back(it->value().data(), it->value().size());
  return out;
}

// The request answered so far could not be finished: a handler threw (a bug), or drain_timeout_ms
// passed. A started stream ends with an error event; otherwise the client gets the error itself.
net::awaitable<void> end_abandoned(Exchange& ex, http::OpenAiError err) {
  ex.keep_alive = false;
  // A slow client must not hold the drain: the last words get a short allowance of their own.
  ex.deadline = std::min(ex.deadline, Clock::now() + std::chrono::milliseconds(kLastWordsMs));
  if (!ex.head_sent()) {
    co_await ex.reply_error(std::move(err));
    co_return;
  }
  ex.trace.status = ex.sent_status();  // what the client got, not a 499 for our own cancel
  if (ex.stream_open()) {
    co_await ex.end_stream_with_error(err);
  } else {
    ex.trace.error = err.code.value_or(err.type);
  }
}

using RequestParser = bhttp::request_parser<RequestBody>;

// Reads a request's head within header_timeout_ms (the first) or idle_timeout_ms (the next ones).
// False: the connection ends, after the error reply a malformed or oversized head gets.
net::awaitable<bool> read_head(ThreadContext& t, beast::tcp_stream& stream,
                               beast::flat_buffer& buffer, RequestParser& parser,
                               const ServingSnapshot& snap, bool first) {
  const auto& limits = snap->cfg->server;
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
  stream.expires_after(
      std::chrono::milliseconds(first ? limits.header_timeout_ms : limits.idle_timeout_ms));
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
  if (hec == bhttp::error::header_limit) {
    Request none;
    co_await reply_unreadable(
        t, stream, buffer, none, snap, 431,
        "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes",
        "request_header_fields_too_large");
    co_return false;
  }
  if (hec == bhttp::error::body_limit) {  // Content-Length over the limit, seen in the head
    co_await reply_too_large(t, stream, buffer, parser.get(), snap);
    co_return false;
  }
  if (hec) {
    // end_of_stream, timeout, reset, drain: a normal end. Malformed bytes get a 400 first.
    if (is_framing_error(hec)) {
      Request none;
      co_await reply_unreadable(t, stream, buffer, none, snap, 400,
                                "malformed HTTP request: " + hec.message(), "bad_request");
    }
    co_return false;
  }
  co_return true;
}

// Checks the head's framing, then reads the body (after a 100 Continue when asked) within
// header_timeout_ms. False: the connection ends, after the error reply.
net::awaitable<bool> read_body(ThreadContext& t, beast::tcp_stream& stream,
                               beast::flat_buffer& buffer, RequestParser& parser,
                               const ServingSnapshot& snap) {
  const auto& limits = snap->cfg->server;
  // Framing we might read differently from a proxy in front of us: refuse before any body
  // byte is read, and close, so a body is never taken for a request.
  Request& head = parser.get();
  auto problem = check_host(head.count(bhttp::field::host), head.version());
  if (!problem) problem = check_transfer_encoding(transfer_codings(head), head.version());
  if (problem) {
    co_await reply_unreadable(t, stream, buffer, head, snap, problem->status,
                              std::move(problem->message), std::move(problem->code));
    co_return false;
  }

  // Slow client: the body must arrive within the same allowance as the head.
  // HTTP/1.0 has no interim responses (RFC 9110 §15.2): such a client just sends its body.
  if (head.version() >= 11 && head[bhttp::field::expect] == "100-continue") {
    if (parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
      co_await reply_too_large(t, stream, buffer, head, snap);
      co_return false;
    }
    stream.expires_after(std::chrono::milliseconds(limits.header_timeout_ms));
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
    auto [cec, cn] = co_await bhttp::async_write(stream, cont, kAsTuple);
    if (cec) co_return false;
  }
  error_code bec = co_await read_body_within(stream, buffer, parser,
                                             std::chrono::milliseconds(limits.header_timeout_ms));
  if (bec == bhttp::error::body_limit) {
    co_await reply_too_large(t, stream, buffer, parser.get(), snap);
    co_return false;
  }
  if (bec == beast::error::timeout) {
    co_await reply_unreadable(
        t, stream, buffer, parser.get(), snap, 408,
        "request body did not arrive within " + std::to_string(limits.header_timeout_ms) + " ms",
        "request_timeout");
    co_return false;
  }
  if (is_framing_error(bec)) {  // a bad chunk size, a bad chunk extension...
    co_await reply_unreadable(t, stream, buffer, parser.get(), snap, 400,
                              "malformed request body: " + bec.message(), "bad_request");
    co_return false;
  }
  co_return !bec;
}

// A request its handler did not finish: it threw (`failure` says what), or drain cut it. A
// coroutine of its own: its temporaries would otherwise sit in answer()'s frame, which lives
// as long as the request's stream.
net::awaitable<void> end_unfinished(Runtime& rt, Exchange& ex, const std::string& failure) {
  if (!failure.empty()) {
    if (rt.log) {
      std::string extra = "\"id\":";
      http::append_json_string(extra, ex.trace.request_id);
      rt.log->event("error", "request_failed", failure, extra);
    }
    co_await end_abandoned(ex, http::make_error(500, "internal error", "internal_error"));
    co_return;
  }
  co_await end_abandoned(
      ex, http::make_error(503, "the gateway is shutting down (drain_timeout_ms passed)",
                           "drain_timeout"));
  rt.requests_cut_by_drain.fetch_add(1, std::memory_order_relaxed);
  if (rt.metrics) rt.metrics->drain_cut_requests.Increment();
}

// Routes a whole request to its handler, ends it properly when the handler threw or drain cut
// it, and counts and logs it. True: the connection stays open for the next request.
net::awaitable<bool> answer(ThreadContext& t, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                            Request& req, const ServingSnapshot& snap, ClientRegistration& entry,
                            Router route, net::cancellation_signal& cancel) {
  Runtime& rt = t.runtime;
  Exchange ex(t.deps, stream, buffer, req, snap, cancel);
  ExchangeInFlight published(entry, ex);
  ex.trace.request_id = next_request_id(t, req["x-request-id"]);
  ex.trace.method = bhttp::to_string(req.method());
  ex.trace.path = snap->secrets.cut(req.target(), kMaxLoggedTargetBytes);
  stream.expires_at(ex.deadline);
  std::string failure;  // a handler's exception: a bug, but never a silent one
  try {
    co_await route(ex);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty() || (ex.cut_by_drain && !ex.complete())) {
    co_await end_unfinished(rt, ex, failure);
  }
  ex.trace.finished = Clock::now();
  if (ex.completion && snap->metrics) snap->metrics->record(ex.trace);
  http::redact_log_fields(snap->secrets, ex.trace);
  if (rt.log) rt.log->request(ex.trace);
  record_decision(ex.trace, ex.cfg(), rt.log_prompts);
  co_return ex.keep_alive&& ex.head_sent();
}

// Every request of one connection, in order. Bookkeeping is held by RAII guards, so an exception
// anywhere leaves nothing behind.
net::awaitable<void> serve_connection(ThreadContext& t, beast::tcp_stream& stream, Router route,
                                      net::cancellation_signal& cancel) {
  Runtime& rt = t.runtime;
  beast::flat_buffer buffer;
  ClientRegistration entry(t.clients, stream);
  bool first = true;

  for (;;) {
    if (rt.draining.load(std::memory_order_relaxed)) break;
    // Limits for reading a head come from the config current while we wait; the request itself
    // runs on the config current once its head has arrived (snapped again below).
    RequestParser parser;  // a fresh parser per message
    ServingSnapshot snap = rt.config.current();
    buffer.max_size(client_buffer_limit(snap->cfg->server));
    const bool has_head = co_await read_head(t, stream, buffer, parser, snap, first);
    if (!has_head) break;
    snap = rt.config.current();  // this request's config: the one current when its head arrived
    parser.body_limit(snap->cfg->server.max_body_bytes);
    first = false;
    InflightGuard inflight(rt.inflight_requests);
    entry->idle = false;

    const bool whole = co_await read_body(t, stream, buffer, parser, snap);
    if (!whole) break;
    const bool keep_open =
        co_await answer(t, stream, buffer, parser.get(), snap, entry, route, cancel);
    if (!keep_open) break;

    // Back to waiting for a request: drain may close us from now on.
    entry->idle = true;
  }
}

}  // namespace

net::awaitable<void> run_client_session(ThreadContext& t, tcp::socket socket, Router route,
                                        net::cancellation_signal& cancel) {
  beast::tcp_stream stream(std::move(socket));
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  std::string failure;
  try {
    co_await serve_connection(t, stream, route, cancel);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty() && t.runtime.log) {
    t.runtime.log->event("error", "session_failed", failure);
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

}  // namespace gw
