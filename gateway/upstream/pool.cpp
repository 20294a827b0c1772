#include "gateway/upstream/pool.hpp"

#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include "gateway/upstream/connection.hpp"

namespace gw::upstream {

using namespace net::experimental::awaitable_operators;

std::string_view to_string(ConnectError e) {
  switch (e) {
    case ConnectError::none:
      return "none";
    case ConnectError::resolve:
      return "resolve";
    case ConnectError::connect:
      return "connect";
    case ConnectError::timeout:
      return "connect_timeout";
    case ConnectError::tls:
      return "tls";
  }
  return "connect";
}

Pool::Pool(net::ssl::context& tls) : tls_(tls) {}
Pool::~Pool() = default;

std::string Pool::key_of(const config::UpstreamUrl& u) {
  return (u.tls ? "https://" : "http://") + u.host + ":" + std::to_string(u.port);
}

namespace {

// A pooled connection the peer closed (or wrote to unasked) while idle is not reused.
bool still_open(Connection& c) {
  char byte;
  auto n = ::recv(c.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// async_resolve has no deadline of its own: race it against a timer.
net::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve_within(
    const config::UpstreamUrl& u, Clock::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  error_code ip_ec;
  auto ip = net::ip::make_address(u.host, ip_ec);
  if (!ip_ec) {  // IP literal: no lookup
    co_return std::pair{error_code{},
                        tcp::resolver::results_type::create(tcp::endpoint(ip, u.port), u.host,
                                                            std::to_string(u.port))};
  }
  tcp::resolver resolver(ex);
  net::steady_timer timer(ex, deadline);
  auto result = co_await (resolver.async_resolve(u.host, std::to_string(u.port), kAsTuple) ||
                          timer.async_wait(kAsTuple));
  if (result.index() == 1)
    co_return std::pair{error_code(net::error::timed_out), tcp::resolver::results_type{}};
  auto [ec, results] = std::get<0>(std::move(result));
  co_return std::pair{ec, std::move(results)};
}

}  // namespace

net::awaitable<std::pair<ConnectError, std::unique_ptr<Connection>>> Pool::acquire(
    const config::Model& model, bool allow_reuse, std::string& detail,
    Clock::time_point not_after) {
  const auto& u = model.url;
  if (allow_reuse) {
    auto it = idle_.find(key_of(u));
    if (it != idle_.end()) {
      auto now = Clock::now();
      while (!it->second.empty()) {
        auto conn = std::move(it->second.back());
        it->second.pop_back();
        // Always probed (one non-blocking peek): bytes an upstream sent after its response
        // ended must never be read as the answer to the next request.
        if (now < conn->idle_until && conn->buffer.size() == 0 && still_open(*conn)) {
          conn->reused = true;
          co_return std::pair{ConnectError::none, std::move(conn)};
        }
      }
    }
  }

  auto deadline =
      std::min(Clock::now() + std::chrono::milliseconds(model.connect_timeout_ms), not_after);
  auto [rec, endpoints] = co_await resolve_within(u, deadline);
  if (rec) {
    detail = rec.message();
    co_return std::pair{
        rec == net::error::timed_out ? ConnectError::timeout : ConnectError::resolve, nullptr};
  }
  beast::tcp_stream tcp_stream(co_await net::this_coro::executor);
  tcp_stream.expires_at(deadline);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kAsTuple);
  if (cec) {
    detail = cec.message();
    co_return std::pair{
        cec == beast::error::timeout ? ConnectError::timeout : ConnectError::connect, nullptr};
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));
  if (!u.tls) {
    tcp_stream.expires_never();
    co_return std::pair{ConnectError::none, std::make_unique<Connection>(std::move(tcp_stream))};
  }

  TlsStream tls(std::move(tcp_stream), tls_);
  error_code not_ip;
  net::ip::make_address(u.host, not_ip);
  // SNI carries host names only (RFC 6066 3); an IP literal is checked against the cert's SAN.
  if (not_ip && !SSL_set_tlsext_host_name(tls.native_handle(), u.host.c_str())) {
    detail = "cannot set SNI";
    co_return std::pair{ConnectError::tls, nullptr};
  }
  tls.set_verify_mode(net::ssl::verify_peer);
  tls.set_verify_callback(net::ssl::host_name_verification(u.host));
  auto [hec] = co_await tls.async_handshake(net::ssl::stream_base::client, kAsTuple);
  if (hec) {
    long verify = SSL_get_verify_result(tls.native_handle());
    detail = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : hec.message();
    co_return std::pair{hec == beast::error::timeout ? ConnectError::timeout : ConnectError::tls,
                        nullptr};
  }
  beast::get_lowest_layer(tls).expires_never();
  co_return std::pair{ConnectError::none, std::make_unique<Connection>(std::move(tls))};
}

net::awaitable<ConnectError> Pool::probe(const config::Model& model, std::string& detail,
                                         Clock::time_point deadline) {
  auto [error, conn] = co_await acquire(model, /*allow_reuse=*/false, detail, deadline);
  co_return error;  // `conn` closes here
}

void Pool::release(const config::Model& model, std::unique_ptr<Connection> conn) {
  if (closed_ || conn->holds_unread_bytes()) return;  // closes it: not at a response boundary
  auto& idle = idle_[key_of(model.url)];
  if (idle.size() >= kMaxIdlePerUpstream) return;  // closes it
  conn->buffer.shrink_to_fit();                    // empty: an idle connection keeps no read buffer
  conn->tcp().expires_never();
  conn->idle_since = Clock::now();
  conn->idle_until = conn->idle_since + std::chrono::milliseconds(model.idle_timeout_ms);
  arm_reaper(conn->tcp().get_executor(), conn->idle_until);
  idle.push_back(std::move(conn));
}

void Pool::arm_reaper(const net::any_io_executor& ex, Clock::time_point at) {
  if (closed_) return;
  if (!reaper_) reaper_.emplace(ex);
  if (at >= reaper_at_) return;  // already due earlier; it re-arms itself for the rest
  reaper_at_ = at;
  reaper_->expires_at(at);
  reaper_->async_wait([this](error_code ec) {
    if (ec) return;  // re-armed (cancelled) or shut down
    reap();
  });
}

void Pool::reap() {
  reaper_at_ = Clock::time_point::max();
  auto now = Clock::now();
  Clock::time_point next = Clock::time_point::max();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& conns = it->second;
    std::erase_if(conns,
                  [&](const std::unique_ptr<Connection>& c) { return c->idle_until <= now; });
    for (const auto& c : conns) next = std::min(next, c->idle_until);
    it = conns.empty() ? idle_.erase(it) : std::next(it);
  }
  if (next != Clock::time_point::max() && reaper_) arm_reaper(reaper_->get_executor(), next);
}

std::size_t Pool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, conns] : idle_) n += conns.size();
  return n;
}

void Pool::close_idle() {
  idle_.clear();
}

}  // namespace gw::upstream
