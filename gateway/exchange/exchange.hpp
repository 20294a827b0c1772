#pragma once
// Exchange: one client request and its response, as handlers see it. Owns the RequestTrace;
// every response leaves through here, so CORS, request id and x-gateway-* headers are never
// forgotten on any path, errors and streams included.

#include <string>
#include <string_view>

#include "gateway/http/openai_error.hpp"
#include "gateway/server/runtime.hpp"
#include "gateway/trace/request_trace.hpp"

namespace gw {

using Request = bhttp::request<bhttp::string_body>;

class Exchange {
 public:
  Exchange(ThreadContext& thread, beast::tcp_stream& client, beast::flat_buffer& client_buffer,
           Request& req, ServingSnapshot serving);

  ThreadContext& thread;
  beast::tcp_stream& client;
  beast::flat_buffer& client_buffer;  // pipelined bytes read while watching the client land here
  Request& req;
  ServingSnapshot serving;  // the snapshot this request keeps to its end
  const config::Config& cfg() const { return *serving->cfg; }

  RequestTrace trace;
  Clock::time_point deadline;  // server.request_timeout_ms after the request arrived
  bool completion = false;     // a chat completion: carries the x-gateway-* headers
  bool keep_alive = true;
  bool cut_by_drain = false;  // drain_timeout_ms passed while this request was in flight

  // A whole response. Returns false when the client could not be written to.
  net::awaitable<bool> reply(unsigned status, std::string body, std::string_view content_type);
  net::awaitable<bool> reply_error(http::OpenAiError err);  // by value: outlives suspensions
  net::awaitable<bool> reply_preflight();

  // A chunked response written piece by piece (SSE).
  net::awaitable<bool> begin_stream(unsigned status, std::string_view content_type);
  net::awaitable<bool> write_chunk(std::string_view bytes);
  net::awaitable<bool> end_stream();
  // Ends a started stream with an OpenAI error event and the terminating chunk (no [DONE]):
  // how a stream that cannot finish ends, never silently. False when it could not be written.
  net::awaitable<bool> end_stream_with_error(http::OpenAiError err);  // by value, as reply_error
  bool head_sent() const { return head_sent_; }
  unsigned sent_status() const { return sent_status_; }  // the status line written, 0 = none
  // The whole response is out: a reply written, or a stream ended.
  bool complete() const { return complete_; }
  // A stream whose head is out, not ended, and whose framing no failed write has broken.
  bool stream_open() const { return stream_begun_ && !stream_ended_ && !write_failed_; }

 private:
  // Status line and the headers every response carries; marks the head as sent.
  std::string response_head(unsigned status);
  bool head_sent_ = false;
  unsigned sent_status_ = 0;
  bool complete_ = false;
  bool stream_begun_ = false;
  bool stream_ended_ = false;
  bool write_failed_ = false;        // a write failed or was cancelled part-way: framing is unknown
  http::HeaderLines error_headers_;  // the next head's extra lines (an error's rate-limit hints)
  bool chunked_ = true;
  std::string allow_origin_;
};

}  // namespace gw
