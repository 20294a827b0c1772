#include "gateway/exchange/exchange.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <charconv>
#include <span>

namespace gw {

Exchange::Exchange(HandlerDeps& d, beast::tcp_stream& c, beast::flat_buffer& b, Request& r,
                   ServingSnapshot s, net::cancellation_signal& k)
    : deps(d), client(c), client_buffer(b), req(r), cancel(k), serving(std::move(s)) {
  trace.received = Clock::now();
  deadline = trace.received + std::chrono::milliseconds(cfg().server.request_timeout_ms);
  keep_alive = req.keep_alive();
  allow_origin_ = serving->cors.allow_origin(req[bhttp::field::origin]);
}

namespace {

void add_header(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

// The chunk-size line of one HTTP/1.1 chunk: hex length and CRLF.
std::string_view chunk_size_line(std::size_t n, std::array<char, 20>& buf) {
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size() - 2, n, 16);
  *end++ = '\r';
  *end++ = '\n';
  return {buf.data(), static_cast<std::size_t>(end - buf.data())};
}

}  // namespace

// Response heads are written by hand into one buffer: this runs on every response, and
// Beast's field container and serializer cost an allocation per header and a buffer walk.
std::string Exchange::response_head(unsigned status) {
  std::string head;
  head.reserve(512);
  head.append(req.version() >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ").append(std::to_string(status));
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  head.append(" ").append(reason.data(), reason.size()).append("\r\n");
  if (!allow_origin_.empty()) {
    add_header(head, "Access-Control-Allow-Origin", allow_origin_);
    add_header(head, "Access-Control-Expose-Headers", http::kCorsExposeHeaders);
  }
  if (serving->cors.varies_by_origin()) add_header(head, "Vary", "Origin");
  if (!trace.request_id.empty()) add_header(head, "x-request-id", trace.request_id);
  if (completion) {
    // A request rejected before any model was chosen (bad JSON, unknown model) has no route.
    if (trace.answered) {
      add_header(head, "x-gateway-route", to_string(trace.route));
      add_header(head, "x-gateway-model", trace.answered->name);
    }
    if (!trace.reason.empty()) add_header(head, "x-gateway-escalation-reason", trace.reason);
    add_header(head, "Server-Timing", server_timing(trace, Clock::now()));
  }
  for (const auto& [name, value] : error_headers_) add_header(head, name, value);
  // Draining: this connection closes after this response, so the response says so.
  if (deps.draining.load(std::memory_order_relaxed)) keep_alive = false;
  if (req.version() >= 11) {
    if (!keep_alive) add_header(head, "Connection", "close");
  } else if (keep_alive) {
    add_header(head, "Connection", "keep-alive");
  }
  trace.status = status;
  sent_status_ = status;
  head_sent_ = true;
  return head;
}

net::awaitable<bool> Exchange::reply(unsigned status, std::string body,
                                     std::string_view content_type) {
  std::string head = response_head(status);
  add_header(head, "Content-Type", content_type);
  add_header(head, "Content-Length", std::to_string(body.size()));
  head.append("\r\n");
  if (req.method() == bhttp::verb::head) body.clear();  // HEAD: the length, never the body
  trace.bytes_out += body.size();
  client.expires_at(deadline);
  trace.first_byte = Clock::now();
  std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
  auto [ec, n] = co_await net::async_write(client, buffers, kAsTuple);
  if (ec) write_failed_ = true;
  complete_ = !ec;
  co_return !ec;
}

net::awaitable<bool> Exchange::reply_error(http::OpenAiError err) {
  serving->secrets.apply(err);  // an upstream may echo the key it was sent
  if (!trace.error.empty() || err.code) trace.error = err.code.value_or(trace.error);
  if (trace.error.empty()) trace.error = err.type;
  error_headers_ = std::move(err.headers);
  // A client told to come back gets told when: its SDK backs off by this, not blind.
  if ((err.status == 429 || err.status == 503) &&
      !http::has_header(error_headers_, "retry-after")) {
    error_headers_.emplace_back("retry-after", http::kOwnRetryAfterSeconds);
  }
  bool written = co_await reply(err.status, err.body(), "application/json");
  co_return written;
}

net::awaitable<bool> Exchange::reply_preflight() {
  std::string head = response_head(204);
  if (!allow_origin_.empty()) {
    add_header(head, "Access-Control-Allow-Methods", http::kCorsAllowMethods);
    auto asked_field = req[bhttp::field::access_control_request_headers];
    std::string_view asked(asked_field.data(), asked_field.size());
    bool echo = !asked.empty() && asked.size() <= http::kCorsMaxRequestHeadersBytes &&
                asked.find_first_of("\r\n") == std::string_view::npos;
    add_header(head, "Access-Control-Allow-Headers", echo ? asked : http::kCorsDefaultAllowHeaders);
    add_header(head, "Access-Control-Max-Age", http::kCorsMaxAgeSeconds);
  }
  head.append("\r\n");
  client.expires_at(deadline);
  auto [ec, n] = co_await net::async_write(client, net::buffer(head), kAsTuple);
  complete_ = !ec;
  co_return !ec;
}

net::awaitable<bool> Exchange::begin_stream(unsigned status, std::string_view content_type) {
  // HTTP/1.0 has no chunked encoding: the body runs until the connection closes.
  chunked_ = req.version() >= 11;
  if (!chunked_) keep_alive = false;
  std::string head = response_head(status);
  add_header(head, "Content-Type", content_type);
  add_header(head, "Cache-Control", "no-cache");
  add_header(head, "X-Accel-Buffering", "no");  // tell a proxy in front of us not to buffer
  if (chunked_) add_header(head, "Transfer-Encoding", "chunked");
  head.append("\r\n");
  stream_begun_ = true;
  client.expires_at(deadline);
  auto [ec, n] = co_await net::async_write(client, net::buffer(head), kAsTuple);
  if (ec) write_failed_ = true;
  co_return !ec;
}

net::awaitable<bool> Exchange::write_chunk(std::string_view bytes) {
  if (bytes.empty()) co_return true;  // an empty chunk would end the body
  if (trace.first_byte == Clock::time_point{}) trace.first_byte = Clock::now();
  trace.bytes_out += bytes.size();
  client.expires_at(deadline);
  net::const_buffer data(bytes.data(), bytes.size());
  std::array<char, 20> size_buf;
  // One gather write per chunk: size line, data, CRLF (just the data without chunking).
  std::array<net::const_buffer, 3> chunk{net::buffer(chunk_size_line(bytes.size(), size_buf)), data,
                                         net::buffer("\r\n", 2)};
  std::span<const net::const_buffer> parts(chunked_ ? &chunk[0] : &chunk[1], chunked_ ? 3 : 1);
  auto [ec, n] = co_await net::async_write(client, parts, kAsTuple);
  if (ec) write_failed_ = true;
  co_return !ec;
}

net::awaitable<bool> Exchange::end_stream() {
  stream_ended_ = true;
  if (!chunked_) {
    complete_ = true;  // the connection's close ends the body
    co_return true;
  }
  client.expires_at(deadline);
  auto [ec, n] = co_await net::async_write(client, net::buffer("0\r\n\r\n", 5), kAsTuple);
  if (ec) write_failed_ = true;
  complete_ = !ec;
  co_return !ec;
}

net::awaitable<bool> Exchange::end_stream_with_error(http::OpenAiError err) {
  serving->secrets.apply(err);
  trace.error = err.code.value_or(err.type);
  const std::string event = "data: " + err.body() + "\n\n";
  bool written = co_await write_chunk(event);
  if (!written) co_return false;
  bool ended = co_await end_stream();
  co_return ended;
}

}  // namespace gw
