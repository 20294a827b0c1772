#pragma once
// A small HTTP/1.1 client over Boost.Beast for the evaluation commands: one request per
// connection (no pooling: an eval run sends hundreds of requests, not millions), a deadline on
// every step, bounded bodies, and a callback per body read so a streamed answer's first token
// can be timed on the client side.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gw::eval {

inline constexpr uint64_t kMaxResponseBodyBytes = 32 * 1024 * 1024;
inline constexpr uint32_t kDefaultRequestTimeoutMs = 300000;

struct HttpEndpoint {
  std::string host;
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix", without "/v1"
};

// "http://host:port[/prefix][/v1]" -> endpoint; nullopt for anything else (https is not spoken:
// the gateway is local; put a TLS terminator's plain side here).
std::optional<HttpEndpoint> parse_endpoint(std::string_view url);

struct HttpReply {
  unsigned status = 0;                         // 0 = no HTTP answer (see error)
  std::string error;                           // transport failure, empty on success
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpRequest {
  std::string method = "POST";
  std::string path;  // appended to base_path
  std::string body;
  std::string api_key;  // empty = no Authorization
  std::map<std::string, std::string> headers;
  uint32_t timeout_ms = kDefaultRequestTimeoutMs;
  // Called after each body read with the body so far (streamed answers).
  std::function<void(std::string_view body_so_far)> on_body;
};

boost::asio::awaitable<HttpReply> http_call(HttpEndpoint endpoint, HttpRequest request);

}  // namespace gw::eval
