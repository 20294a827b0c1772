#pragma once
// UpstreamPool: keep-alive connections per upstream (scheme, host, port), one pool per I/O
// thread, so no locks. Bounded in idle connections per upstream and in idle age.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/upstream/connection.hpp"

namespace gw::upstream {

enum class ConnectError { none, resolve, connect, timeout, tls };
std::string_view to_string(ConnectError e);

class Pool {
 public:
  static constexpr std::size_t kMaxIdlePerUpstream = 256;
  static constexpr std::uint32_t kMaxIdleAgeMs = 4000;  // under uvicorn's 5 s keep-alive (vLLM)
  static constexpr std::uint32_t kProbeAfterIdleMs = 1000;

  explicit Pool(net::ssl::context& tls) : tls_(tls) {}

  // An idle live connection, or a new one (resolve, connect, TLS handshake) within the
  // model's connect timeout.
  // On failure, `detail` says why in words (e.g. the certificate check that failed).
  net::awaitable<std::pair<ConnectError, std::unique_ptr<Connection>>> acquire(
      const config::Model& model, bool allow_reuse, std::string& detail);

  // Gives back a connection whose last response was read completely and may be kept alive.
  void release(const config::Model& model, std::unique_ptr<Connection> conn);

  void close_idle();
  // Closes idle connections and pools nothing from now on: the thread is shutting down.
  void shut_down() {
    closed_ = true;
    close_idle();
  }

 private:
  static std::string key_of(const config::UpstreamUrl& u);

  net::ssl::context& tls_;
  bool closed_ = false;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace gw::upstream
