#pragma once
// One request to one upstream model: send, read the head, then the body as it arrives.
// The connection goes back to the pool only after a complete response; anything else
// (client gone, timeout, error) closes it, which cancels the upstream's work.

#include <array>
#include <optional>

#include "gateway/upstream/pool.hpp"

namespace gw::upstream {

enum class CallError { none, connect, timeout, closed, protocol, too_large, cancelled };
std::string_view to_string(CallError e);

class Call {
 public:
  Call(Pool& pool, const config::Model& model, UpstreamLeg& leg)
      : pool_(pool), model_(model), leg_(leg) {}
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() { finish(); }

  // Writes the request and reads the response head. One retry on a fresh connection when a
  // pooled one turns out closed before anything came back.
  net::awaitable<CallError> start(std::string body, bool stream, std::string_view request_id);

  unsigned status() const { return parser_->get().result_int(); }
  bool event_stream() const;
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

  Pool& pool_;
  const config::Model& model_;
  UpstreamLeg& leg_;
  std::unique_ptr<Connection> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  ConnectError connect_error_ = ConnectError::none;
  std::string connect_detail_;
  // Small on purpose: thousands of streams each hold one; SSE events are far smaller.
  std::array<char, 2048> buf_;
};

}  // namespace gw::upstream
