#pragma once
// ModelStream: one request to one model, as the routing flows see it. This is the seam between
// routing and upstream I/O: the flows (gateway/chat/) depend on this interface only;
// upstream::Call implements it over a pooled connection, and unit tests script it
// (tests/gateway/chat/). ModelStreams opens them: each I/O thread has one over its pool.
//
// Deliberately light: no Beast or OpenSSL header, so every flow compiles without them.

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/config/config.hpp"
#include "gateway/http/outgoing_body.hpp"
#include "gateway/trace/request_trace.hpp"

namespace gw {
namespace net = boost::asio;  // as base/net.hpp, without Beast
}

namespace gw::upstream {

// deadline: the request's own deadline (server.request_timeout_ms) passed, not the upstream's
// timeout. bad_status: a final status outside 200..599, or one that forbids a body (204, 304).
enum class CallError {
  none,
  connect,
  timeout,
  closed,
  protocol,
  too_large,
  cancelled,
  deadline,
  bad_status
};
std::string_view to_string(CallError e);

// Which step of opening a connection failed.
enum class ConnectError { none, resolve, connect, timeout, tls };
std::string_view to_string(ConnectError e);

// The upstream path after the model's base path (`/v1` + this) when none is given.
inline constexpr std::string_view kChatCompletionsPath = "/chat/completions";

class ModelStream {
 public:
  virtual ~ModelStream() = default;

  // Writes the request and reads the response head. `path` follows the model's base path.
  virtual net::awaitable<CallError> start(http::OutgoingBody body, bool stream,
                                          std::string_view request_id, std::string_view path) = 0;
  net::awaitable<CallError> start(http::OutgoingBody body, bool stream,
                                  std::string_view request_id) {
    return start(std::move(body), stream, request_id, kChatCompletionsPath);
  }

  // The response head (valid once start() succeeded).
  virtual unsigned status() const = 0;
  virtual bool event_stream() const = 0;  // Content-Type: text/event-stream
  virtual std::optional<std::uint64_t> content_length() const = 0;
  virtual void for_each_header(
      const std::function<void(std::string_view name, std::string_view value)>& visit) const = 0;
  // Why the connection could not be opened (after CallError::connect or timeout).
  virtual ConnectError connect_error() const = 0;
  virtual const std::string& connect_detail() const = 0;

  // The next body bytes as they arrive (transfer coding removed); an empty view once done. The
  // view is valid until the next call.
  virtual net::awaitable<std::pair<CallError, std::string_view>> read_some() = 0;
  // The whole body, at most `limit` bytes (beyond: CallError::too_large, the stream closed).
  virtual net::awaitable<CallError> read_all(std::string& out, std::size_t limit) = 0;

  // Done with it: the connection is kept for reuse only when the response ended exactly, else
  // closed, which cancels the upstream's work. Idempotent; the destructor does it too.
  virtual void finish() = 0;
};

class ModelStreams {
 public:
  virtual ~ModelStreams() = default;
  // A request to `model` recording its marks and errors in `leg`; every wait it makes ends by
  // `deadline` at the latest (as CallError::deadline).
  virtual std::unique_ptr<ModelStream> open(const config::Model& model, UpstreamLeg& leg,
                                            Clock::time_point deadline) = 0;
};

}  // namespace gw::upstream
