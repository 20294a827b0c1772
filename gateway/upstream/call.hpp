#pragma once
// One request to one upstream model: send, read the head, then the body as it arrives.
// The upstream's bytes are untrusted: interim 1xx heads are skipped (bounded), a final status
// that cannot carry a completion is an error, and the connection goes back to the pool only
// when its response ended exactly (no byte beyond it); anything else (client gone, timeout,
// error) closes it, which cancels the upstream's work.

#include <array>
#include <optional>

#include "gateway/upstream/model_stream.hpp"
#include "gateway/upstream/pool.hpp"

namespace gw::upstream {

class Call final : public ModelStream {
 public:
  // Bounded: interim (1xx) heads skipped before a final one; more is not an HTTP server.
  static constexpr int kMaxInterimResponses = 8;

  // Every wait ends by `deadline` (the client request's) at the latest, as CallError::deadline.
  // Both in call.cpp, where Connection is complete: files holding a Call never parse its
  // TLS and Beast stream headers.
  Call(Pool& pool, const config::Model& model, UpstreamLeg& leg,
       Clock::time_point deadline = Clock::time_point::max());
  ~Call() override;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  using ModelStream::start;
  // One retry on a fresh connection when a pooled one turns out closed before anything came
  // back.
  net::awaitable<CallError> start(http::OutgoingBody body, bool stream, std::string_view request_id,
                                  std::string_view path) override;

  unsigned status() const override { return parser_->get().result_int(); }
  bool event_stream() const override;
  std::optional<std::uint64_t> content_length() const override;
  void for_each_header(
      const std::function<void(std::string_view, std::string_view)>& visit) const override;
  ConnectError connect_error() const override { return connect_error_; }
  const std::string& connect_detail() const override { return connect_detail_; }

  net::awaitable<std::pair<CallError, std::string_view>> read_some() override;
  net::awaitable<CallError> read_all(std::string& out, std::size_t limit) override;

  // Pools the connection if the response is complete and keep-alive, else closes it.
  void finish() override;

 private:
  net::awaitable<CallError> attempt(const std::string& head, const http::OutgoingBody& body,
                                    bool allow_reuse, bool& retryable);
  // Reads the next body bytes into [data, data + size): how many (0: the body ended).
  net::awaitable<std::pair<CallError, std::size_t>> read_into(char* data, std::size_t size);
  // Reads what the upstream sends next into the connection's buffer (the error when it cannot;
  // a close, given to the parser, ends a body framed by it).
  net::awaitable<error_code> read_more();
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
  // Small on purpose: thousands of streams each hold one (1 KiB of every held stream's bytes);
  // SSE events are far smaller, and a larger answer is read in more pieces of the same size.
  static constexpr std::size_t kReadPieceBytes = 1024;
  // read_all reads into its output directly, in pieces of this size (no per-stream cost).
  static constexpr std::size_t kReadAllPieceBytes = 64 * 1024;
  // The socket read buffer of a call answered whole (not streamed): one read holds a typical
  // answer, head and body. Held only while the call runs (the pool drops it).
  static constexpr std::size_t kWholeResponseReadBytes = 8 * 1024;
  bool whole_ = false;  // the answer is read whole, not streamed
  std::array<char, kReadPieceBytes> buf_;
};

// The calls of one I/O thread: over its connection pool.
class PooledStreams final : public ModelStreams {
 public:
  explicit PooledStreams(Pool& pool) : pool_(pool) {}
  std::unique_ptr<ModelStream> open(const config::Model& model, UpstreamLeg& leg,
                                    Clock::time_point deadline) override {
    return std::make_unique<Call>(pool_, model, leg, deadline);
  }

 private:
  Pool& pool_;
};

}  // namespace gw::upstream
