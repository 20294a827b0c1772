#pragma once
// One request to one upstream model: send, read the head, then the body as it arrives.
// The upstream's bytes are untrusted: interim 1xx heads are skipped (bounded), a final status
// that cannot carry a completion is an error, and the connection goes back to the pool only
// when its response ended exactly (no byte beyond it); anything else (client gone, timeout,
// error) closes it, which cancels the upstream's work.

#include <array>
#include <optional>

#include "gateway/upstream/pool.hpp"

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

// The upstream path after the model's base path (`/v1` + this) when none is given.
inline constexpr std::string_view kChatCompletionsPath = "/chat/completions";

class Call {
 public:
  // Bounded: interim (1xx) heads skipped before a final one; more is not an HTTP server.
  static constexpr int kMaxInterimResponses = 8;

  // Every wait ends by `deadline` (the client request's) at the latest, as CallError::deadline.
  Call(Pool& pool, const config::Model& model, UpstreamLeg& leg,
       Clock::time_point deadline = Clock::time_point::max())
      : pool_(pool), model_(model), leg_(leg), deadline_(deadline) {}
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() { finish(); }

  // Writes the request and reads the response head. One retry on a fresh connection when a
  // pooled one turns out closed before anything came back. `path` follows the model's base path.
  net::awaitable<CallError> start(std::string body, bool stream, std::string_view request_id,
                                  std::string_view path = kChatCompletionsPath);

  unsigned status() const { return parser_->get().result_int(); }
  bool event_stream() const;
  // The response head's fields (valid once start() succeeded).
  const bhttp::fields& response_fields() const { return parser_->get().base(); }
  bool done() const { return parser_ && parser_->is_done(); }
  ConnectError connect_error() const { return connect_error_; }
  const std::string& connect_detail() const { return connect_detail_; }

  // The next body bytes as they arrive (chunked encoding removed); an empty view once done.
  net::awaitable<std::pair<CallError, std::string_view>> read_some();
  // The whole body, at most `limit` bytes.
  net::awaitable<CallError> read_all(std::string& out, std::size_t limit);

  // Pools the connection if the response is complete and keep-alive, else closes it.
  void finish();

 private:
  net::awaitable<CallError> attempt(const std::string& head, const std::string& body,
                                    bool allow_reuse, bool& retryable);
  // Sets the socket deadline for the next wait: the model's timeout, or the request deadline.
  void arm_timeout();
  // The CallError for a failed read or write, telling the request deadline from a timeout.
  CallError failure(const error_code& ec) const;

  Pool& pool_;
  const config::Model& model_;
  UpstreamLeg& leg_;
  Clock::time_point deadline_;
  std::unique_ptr<Connection> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  ConnectError connect_error_ = ConnectError::none;
  std::string connect_detail_;
  // Small on purpose: thousands of streams each hold one; SSE events are far smaller.
  std::array<char, 2048> buf_;
};

}  // namespace gw::upstream
