#pragma once
// UpstreamPool: keep-alive connections per upstream (scheme, host, port), one pool per I/O
// thread, so no locks. Bounded in idle connections per upstream and in idle age: a timer closes
// a connection idle for its model's idle_timeout_ms (not only when the next request looks).

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/net.hpp"
#include "gateway/config/config.hpp"
#include "gateway/upstream/model_stream.hpp"  // ConnectError

namespace boost::asio::ssl {
class context;
}

namespace gw::upstream {

// Declared only: its TLS and Beast stream headers (OpenSSL's among them) stay out of every file
// that merely holds a pool (connection.hpp; pool.cpp and call.cpp include it).
struct Connection;

class Pool {
 public:
  static constexpr std::size_t kMaxIdlePerUpstream = 256;

  explicit Pool(net::ssl::context& tls);  // in pool.cpp, as ~Pool
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();  // in pool.cpp, where Connection is complete

  // An idle live connection, or a new one (resolve, connect, TLS handshake) within the
  // model's connect timeout.
  // On failure, `detail` says why in words (e.g. the certificate check that failed). A connect
  // ends by `not_after` at the latest (as ConnectError::timeout).
  net::awaitable<std::pair<ConnectError, std::unique_ptr<Connection>>> acquire(
      const config::Model& model, bool allow_reuse, std::string& detail,
      Clock::time_point not_after = Clock::time_point::max());

  // Whether a request could reach the model now: a fresh connection (never a pooled one: an
  // idle connection says the upstream was there, not that it is) opened like acquire() by
  // `deadline`, then closed, not pooled. On failure, `detail` says why in words.
  net::awaitable<ConnectError> probe(const config::Model& model, std::string& detail,
                                     Clock::time_point deadline);

  // Gives back a connection whose last response was read exactly to its end (nothing buffered
  // beyond it) and may be kept alive; anything else is closed.
  void release(const config::Model& model, std::unique_ptr<Connection> conn);

  void close_idle();
  // Closes idle connections and pools nothing from now on: the thread is shutting down.
  void shut_down() {
    closed_ = true;
    reaper_.reset();
    close_idle();
  }

  std::size_t idle_count() const;

  // One pool entry (and one /readyz probe) per upstream: "scheme://host:port".
  static std::string key_of(const config::UpstreamUrl& u);

 private:
  // Closes connections past their idle_until; re-arms the timer for the next one.
  void reap();
  void arm_reaper(const net::any_io_executor& ex, Clock::time_point at);

  net::ssl::context& tls_;
  bool closed_ = false;
  std::optional<net::steady_timer> reaper_;  // created on the first release, on its thread
  Clock::time_point reaper_at_ = Clock::time_point::max();
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace gw::upstream
