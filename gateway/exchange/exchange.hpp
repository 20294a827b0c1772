#pragma once
// Exchange: one client request and its response, as handlers see it. Owns the RequestTrace;
// every response leaves through here, so CORS, request id and x-gateway-* headers are never
// forgotten on any path, errors and streams included.

#include <string>
#include <string_view>

#include "base/net.hpp"
#include "gateway/exchange/client_response.hpp"
#include "gateway/exchange/handler_deps.hpp"
#include "gateway/exchange/request_body.hpp"
#include "gateway/exchange/serving_config.hpp"
#include "gateway/http/openai_error.hpp"
#include "gateway/trace/request_trace.hpp"

namespace gw {

using Request = bhttp::request<RequestBody>;

// Bounded: bytes a client may pipeline while its previous request is being answered (they wait
// in Exchange::client_buffer for the next request).
inline constexpr std::size_t kMaxPipelinedBytes = 1024 * 1024;

class Exchange final : public ClientResponse {
 public:
  // `cancel` is bound to the coroutine that runs this exchange: emitting it cancels whatever
  // that coroutine awaits (a client that leaves ends the work answering it).
  Exchange(HandlerDeps& deps, beast::tcp_stream& client, beast::flat_buffer& client_buffer,
           Request& req, ServingSnapshot serving, net::cancellation_signal& cancel);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange() = default;

  HandlerDeps& deps;
  beast::tcp_stream& client;
  beast::flat_buffer& client_buffer;  // pipelined bytes read while watching the client land here
  Request& req;
  net::cancellation_signal& cancel;
  ServingSnapshot serving;  // the snapshot this request keeps to its end
  const config::Config& cfg() const { return *serving->cfg; }
  // server.log_prompts or --log-prompts: prompt text may be logged (debug).
  bool logs_prompts() const { return cfg().server.log_prompts || deps.log_prompts; }

  RequestTrace trace;
  Clock::time_point deadline;  // server.request_timeout_ms after the request arrived
  bool completion = false;     // a chat completion: carries the x-gateway-* headers
  bool keep_alive = true;
  bool cut_by_drain = false;  // drain_timeout_ms passed while this request was in flight

  // ClientResponse. Errors by value: they outlive suspensions.
  net::awaitable<bool> reply(unsigned status, std::string body,
                             std::string_view content_type) override;
  net::awaitable<bool> reply_error(http::OpenAiError err) override;
  net::awaitable<bool> reply_preflight();

  // A chunked response (close-delimited on HTTP/1.0).
  net::awaitable<bool> begin_stream(unsigned status, std::string_view content_type) override;
  net::awaitable<bool> write_chunk(std::string_view bytes) override;
  net::awaitable<bool> end_stream() override;
  net::awaitable<bool> end_stream_with_error(http::OpenAiError err) override;
  bool head_sent() const override { return head_sent_; }
  unsigned sent_status() const override { return sent_status_; }
  bool complete() const override { return complete_; }
  bool stream_open() const override { return stream_begun_ && !stream_ended_ && !write_failed_; }

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
