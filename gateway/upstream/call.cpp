#include "gateway/upstream/call.hpp"

#include "gateway/upstream/connection.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/container/small_vector.hpp>

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
    case CallError::deadline:
      return "request_timeout";
    case CallError::bad_status:
      return "bad_status";
  }
  return "protocol";
}

namespace {

// Bounded: an upstream response head, or a chunk header (extensions included) or trailers,
// larger than this is not an LLM server talking.
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

// A final status a chat completion can come with. 1xx are interim (skipped before this);
// 204 and 304 forbid a body, so the body they carry would be read as the next response.
bool completion_status(unsigned status) {
  return status >= 200 && status <= 599 && status != 204 && status != 205 && status != 304;
}

}  // namespace

Call::Call(Pool& pool, const config::Model& model, UpstreamLeg& leg, Clock::time_point deadline)
    : pool_(pool), model_(model), leg_(leg), deadline_(deadline) {}

Call::~Call() {
  finish();
}

void Call::arm_timeout() {
  auto until = Clock::now() + std::chrono::milliseconds(model_.timeout_ms);
  conn_->tcp().expires_at(std::min(until, deadline_));
}

CallError Call::failure(const error_code& ec) const {
  CallError e = classify(ec);
  if (e == CallError::timeout && Clock::now() >= deadline_) return CallError::deadline;
  return e;
}

std::optional<std::uint64_t> Call::content_length() const {
  auto length = parser_->content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
}

void Call::for_each_header(
    const std::function<void(std::string_view, std::string_view)>& visit) const {
  for (const auto& field : parser_->get().base()) visit(field.name_string(), field.value());
}

bool Call::event_stream() const {
  auto ct = parser_->get()[bhttp::field::content_type];
  return ct.substr(0, 17) == "text/event-stream";
}

net::awaitable<CallError> Call::start(http::OutgoingBody body, bool stream,
                                      std::string_view request_id, std::string_view path) {
  // The request head is written by hand: a fixed shape, sent with the body in one gather write.
  const auto& u = model_.url;
  std::string head;
  head.reserve(256);
  head.append("POST ").append(u.base_path).append(path).append(" HTTP/1.1\r\nHost: ");
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

  whole_ = !stream;
  bool retryable = false;
  CallError err = co_await attempt(head, body, true, retryable);
  if (err != CallError::none && retryable) err = co_await attempt(head, body, false, retryable);
  co_return err;
}

net::awaitable<CallError> Call::attempt(const std::string& head, const http::OutgoingBody& body,
                                        bool allow_reuse, bool& retryable) {
  retryable = false;
  leg_.error = {};
  auto [cerr, conn] = co_await pool_.acquire(model_, allow_reuse, connect_detail_, deadline_);
  if (cerr != ConnectError::none) {
    connect_error_ = cerr;
    leg_.error = to_string(cerr);
    if (cerr == ConnectError::timeout && Clock::now() >= deadline_) {
      leg_.error = to_string(CallError::deadline);
      co_return CallError::deadline;
    }
    co_return cerr == ConnectError::timeout ? CallError::timeout : CallError::connect;
  }
  conn_ = std::move(conn);

  arm_timeout();
  // Head and body in one gather write; no allocation for a body of up to seven pieces (a
  // routed leg's body spliced around members the client sent first, as the OpenAI SDK sends
  // `messages` before `model`, is four or five).
  boost::container::small_vector<net::const_buffer, 8> request{net::buffer(head),
                                                               net::buffer(body.owned)};
  for (std::string_view piece : body.borrowed) request.push_back(net::buffer(piece));
  auto [wec, wn] =
      co_await conn_->visit([&](auto& s) { return net::async_write(s, request, kAsTuple); });
  if (wec) {
    CallError e = failure(wec);
    retryable = conn_->reused && e == CallError::closed;
    conn_.reset();
    leg_.error = to_string(e);
    co_return e;
  }
  leg_.sent = Clock::now();
  // A pooled connection keeps no read buffer, and Beast reads what the buffer's spare capacity
  // holds (512 bytes at least): a whole answer of 579 bytes took two reads, and a 100 KB one
  // (logprobs) 200. A stream keeps its small buffer: thousands are held at once.
  if (whole_) conn_->buffer.reserve(kWholeResponseReadBytes);

  // Interim responses (100 Continue, 103 Early Hints) come before the final one and are
  // skipped (RFC 9110 15.2): relaying one would leave the real answer for the next client.
  for (int interim = 0;; ++interim) {
    parser_.emplace();
    parser_->header_limit(kMaxUpstreamHeaderBytes);
    parser_->body_limit(boost::none);  // streams are unbounded; read_all bounds plain bodies
    arm_timeout();
    auto [hec, hn] = co_await conn_->visit(
        [&](auto& s) { return bhttp::async_read_header(s, conn_->buffer, *parser_, kAsTuple); });
    if (hec) {
      CallError e = failure(hec);
      retryable = interim == 0 && conn_->reused && hn == 0 && e == CallError::closed;
      conn_.reset();
      leg_.error = to_string(e);
      co_return e;
    }
    const unsigned status = parser_->get().result_int();
    // 101 Switching Protocols was never asked for: not an interim answer, a wrong one.
    if (status < 100 || status > 199 || status == 101) break;
    if (interim + 1 > kMaxInterimResponses) {
      conn_.reset();
      leg_.error = "too_many_interim_responses";
      co_return CallError::protocol;
    }
  }
  leg_.headers = Clock::now();
  leg_.status = parser_->get().result_int();
  if (!completion_status(leg_.status)) {
    conn_.reset();  // whatever follows the head cannot be framed: never pooled
    leg_.error = to_string(CallError::bad_status);
    co_return CallError::bad_status;
  }
  co_return CallError::none;
}

net::awaitable<std::pair<CallError, std::size_t>> Call::read_into(char* data, std::size_t size) {
  BOOST_ASSERT(size > 0);  // no room would parse nothing, forever
  auto& body = parser_->get().body();
  for (;;) {
    if (!conn_ || parser_->is_done()) co_return std::pair{CallError::none, std::size_t{0}};
    body.data = data;
    body.size = size;
    // What is buffered (body bytes that came with the head, or with the last read) is parsed
    // here, and the socket is read only when it holds nothing parseable: Beast's read would
    // post its completion even for buffered bytes, and parse them again before reading.
    error_code ec = bhttp::error::need_more;
    std::size_t used = 0;
    if (conn_->buffer.size() > 0) {
      used = parser_->put(conn_->buffer.data(), ec);
      conn_->buffer.consume(used);
      if (ec == bhttp::error::need_buffer) ec = {};
    }
    if (ec == bhttp::error::need_more && used == 0) ec = co_await read_more();
    if (ec == bhttp::error::need_more) ec = {};  // a chunk header's start only: parse on
    if (ec) {
      CallError e = failure(ec);
      conn_.reset();
      leg_.error = to_string(e);
      co_return std::pair{e, std::size_t{0}};
    }
    const std::size_t got = size - body.size;
    if (got > 0) co_return std::pair{CallError::none, got};
    // Framing bytes only (a chunk header), or new bytes to parse: on.
  }
}

net::awaitable<error_code> Call::read_more() {
  // A whole answer past its first read is large: read it in large pieces (the pool drops the
  // buffer). A stream's buffer stays as small as its events.
  const std::size_t want =
      whole_ ? kReadAllPieceBytes : beast::read_size(conn_->buffer, kReadAllPieceBytes);
  // Buffered and not parseable yet: a chunk header or the trailers, still arriving. Beast bounds
  // neither (a chunk's extensions have no limit): without this, an upstream sending one without
  // end grew the buffer until its timeout.
  if (conn_->buffer.size() >= kMaxUpstreamHeaderBytes) co_return bhttp::error::header_limit;
  arm_timeout();
  auto [ec, n] = co_await conn_->visit(
      [&](auto& s) { return s.async_read_some(conn_->buffer.prepare(want), kAsTuple); });
  conn_->buffer.commit(n);
  if (ec != net::error::eof) co_return ec;
  // The upstream closed (after its head: read_more reads bodies only): that ends a body framed
  // by the close, and truncates any other.
  error_code eof;
  parser_->put_eof(eof);
  co_return eof;
}

net::awaitable<std::pair<CallError, std::string_view>> Call::read_some() {
  auto [err, got] = co_await read_into(buf_.data(), buf_.size());
  co_return std::pair{err, std::string_view(buf_.data(), got)};
}

net::awaitable<CallError> Call::read_all(std::string& out, std::size_t limit) {
  // Sized once when the length is known: growing by doubling would peak at twice the body.
  const auto length = content_length();
  const bool sized = length && *length <= limit;
  if (sized) out.reserve(out.size() + *length);
  // Read straight into `out`, in pieces far larger than buf_ (which is small for held streams).
  for (;;) {
    if (!conn_ || parser_->is_done()) co_return CallError::none;
    const std::size_t at = out.size();
    // One byte over the limit is enough to know the body is too large; within the reserved
    // length, no piece makes the string grow.
    const std::size_t room = limit - std::min(at, limit);
    std::size_t piece = room >= kReadAllPieceBytes ? kReadAllPieceBytes : room + 1;
    if (sized && out.capacity() > at) piece = std::min(piece, out.capacity() - at);
    out.resize(at + piece);
    auto [err, got] = co_await read_into(out.data() + at, piece);
    out.resize(at + got);
    if (err != CallError::none) co_return err;
    if (got == 0) co_return CallError::none;
    if (out.size() > limit) {
      out.resize(at);
      conn_.reset();
      leg_.error = to_string(CallError::too_large);
      co_return CallError::too_large;
    }
  }
}

void Call::finish() {
  if (!conn_) return;
  // Pooled only when the response ended exactly: a byte already read beyond it (a body longer
  // than its Content-Length, a second response nobody asked for) would be served to the next
  // request on this connection.
  if (parser_ && parser_->is_done() && parser_->keep_alive() && !conn_->holds_unread_bytes()) {
    pool_.release(model_, std::move(conn_));
  } else {
    error_code ignored;
    conn_->tcp().socket().close(ignored);
    conn_.reset();
  }
}

}  // namespace gw::upstream
