#include "gateway/upstream/call.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>

namespace gw::upstream {

std::string_view to_string(CallError e) {
  switch (e) {
    case CallError::none:
      return "none";
    case CallError::connect:
      return "connect";
    case CallError::timeout:
      return "timeout";
    case CallError::closed:
      return "closed";
    case CallError::protocol:
      return "protocol";
    case CallError::too_large:
      return "too_large";
    case CallError::cancelled:
      return "cancelled";
  }
  return "protocol";
}

namespace {

// Bounded: an upstream response head larger than this is not an LLM server talking.
constexpr std::uint32_t kMaxUpstreamHeaderBytes = 64 * 1024;

CallError classify(const error_code& ec) {
  if (ec == beast::error::timeout) return CallError::timeout;
  if (ec == net::error::operation_aborted) return CallError::cancelled;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == net::error::eof || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated) {
    return CallError::closed;
  }
  if (ec == bhttp::error::body_limit) return CallError::too_large;
  return CallError::protocol;
}

}  // namespace

bool Call::event_stream() const {
  auto ct = parser_->get()[bhttp::field::content_type];
  return ct.substr(0, 17) == "text/event-stream";
}

net::awaitable<CallError> Call::start(std::string body, bool stream, std::string_view request_id) {
  // The request head is written by hand: a fixed shape, sent with the body in one gather write.
  const auto& u = model_.url;
  std::string head;
  head.reserve(256);
  head.append("POST ").append(u.base_path).append("/chat/completions HTTP/1.1\r\nHost: ");
  bool v6 = u.host.find(':') != std::string::npos;
  head.append(v6 ? "[" : "").append(u.host).append(v6 ? "]" : "");
  if (u.port != (u.tls ? 443 : 80)) head.append(":").append(std::to_string(u.port));
  head.append("\r\nContent-Type: application/json\r\nAccept: ")
      .append(stream ? "text/event-stream" : "application/json")
      .append("\r\nUser-Agent: hybrid-gateway\r\n");
  if (!model_.api_key.empty())
    head.append("Authorization: Bearer ").append(model_.api_key).append("\r\n");
  if (!request_id.empty()) head.append("x-request-id: ").append(request_id).append("\r\n");
  head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");

  bool retryable = false;
  CallError err = co_await attempt(head, body, true, retryable);
  if (err != CallError::none && retryable) err = co_await attempt(head, body, false, retryable);
  co_return err;
}

net::awaitable<CallError> Call::attempt(const std::string& head, const std::string& body,
                                        bool allow_reuse, bool& retryable) {
  retryable = false;
  leg_.error = {};
  auto [cerr, conn] = co_await pool_.acquire(model_, allow_reuse, connect_detail_);
  if (cerr != ConnectError::none) {
    connect_error_ = cerr;
    leg_.error = to_string(cerr);
    co_return cerr == ConnectError::timeout ? CallError::timeout : CallError::connect;
  }
  conn_ = std::move(conn);
  const auto timeout = std::chrono::milliseconds(model_.timeout_ms);

  conn_->tcp().expires_after(timeout);
  std::array<net::const_buffer, 2> request{net::buffer(head), net::buffer(body)};
  auto [wec, wn] =
      co_await conn_->visit([&](auto& s) { return net::async_write(s, request, kAsTuple); });
  if (wec) {
    retryable = conn_->reused && classify(wec) == CallError::closed;
    conn_.reset();
    leg_.error = to_string(classify(wec));
    co_return classify(wec);
  }
  leg_.sent = Clock::now();

  parser_.emplace();
  parser_->header_limit(kMaxUpstreamHeaderBytes);
  parser_->body_limit(boost::none);  // streams are unbounded; read_all bounds plain bodies
  conn_->tcp().expires_after(timeout);
  auto [hec, hn] = co_await conn_->visit(
      [&](auto& s) { return bhttp::async_read_header(s, conn_->buffer, *parser_, kAsTuple); });
  if (hec) {
    retryable = conn_->reused && hn == 0 && classify(hec) == CallError::closed;
    conn_.reset();
    leg_.error = to_string(classify(hec));
    co_return classify(hec);
  }
  leg_.headers = Clock::now();
  leg_.status = parser_->get().result_int();
  co_return CallError::none;
}

net::awaitable<std::pair<CallError, std::string_view>> Call::read_some() {
  auto& body = parser_->get().body();
  for (;;) {
    if (!conn_ || parser_->is_done()) co_return std::pair{CallError::none, std::string_view{}};
    body.data = buf_.data();
    body.size = buf_.size();
    conn_->tcp().expires_after(std::chrono::milliseconds(model_.timeout_ms));
    auto [ec, n] = co_await conn_->visit(
        [&](auto& s) { return bhttp::async_read_some(s, conn_->buffer, *parser_, kAsTuple); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      conn_.reset();
      leg_.error = to_string(classify(ec));
      co_return std::pair{classify(ec), std::string_view{}};
    }
    std::size_t got = buf_.size() - body.size;
    if (got > 0) co_return std::pair{CallError::none, std::string_view(buf_.data(), got)};
    // Framing bytes only (a chunk header): read on.
  }
}

net::awaitable<CallError> Call::read_all(std::string& out, std::size_t limit) {
  for (;;) {
    auto [err, piece] = co_await read_some();
    if (err != CallError::none) co_return err;
    if (piece.empty()) co_return CallError::none;
    if (out.size() + piece.size() > limit) {
      conn_.reset();
      leg_.error = to_string(CallError::too_large);
      co_return CallError::too_large;
    }
    out.append(piece);
  }
}

void Call::finish() {
  if (!conn_) return;
  if (parser_ && parser_->is_done() && parser_->keep_alive()) {
    pool_.release(model_, std::move(conn_));
  } else {
    error_code ignored;
    conn_->tcp().socket().close(ignored);
    conn_.reset();
  }
}

}  // namespace gw::upstream
