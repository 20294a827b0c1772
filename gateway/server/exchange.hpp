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

  // A whole response. Returns false when the client could not be written to.
  net::awaitable<bool> reply(unsigned status, std::string body, std::string_view content_type);
  net::awaitable<bool> reply_error(http::OpenAiError err);  // by value: outlives suspensions
  net::awaitable<bool> reply_preflight();

  // A chunked response written piece by piece (SSE).
  net::awaitable<bool> begin_stream(unsigned status, std::string_view content_type);
  net::awaitable<bool> write_chunk(std::string_view bytes);
  net::awaitable<bool> end_stream();
  bool head_sent() const { return head_sent_; }

 private:
  // Status line and the headers every response carries; marks the head as sent.
  std::string response_head(unsigned status);
  bool head_sent_ = false;
  bool chunked_ = true;
  std::string allow_origin_;
};

}  // namespace gw
