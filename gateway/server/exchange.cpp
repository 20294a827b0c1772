#include "gateway/server/exchange.hpp"

#include <boost/asio/write.hpp>

namespace gw {

Exchange::Exchange(ThreadContext& t, beast::tcp_stream& c, beast::flat_buffer& b, Request& r,
                   ServingSnapshot s)
    : thread(t), client(c), client_buffer(b), req(r), serving(std::move(s)) {
  trace.received = Clock::now();
  deadline = trace.received + std::chrono::milliseconds(cfg().server.request_timeout_ms);
  keep_alive = req.keep_alive();
  allow_origin_ = serving->cors.allow_origin(req[bhttp::field::origin]);
}

void Exchange::add_common_headers(bhttp::fields& f) {
  if (!allow_origin_.empty()) {
    f.set(bhttp::field::access_control_allow_origin, allow_origin_);
    f.set(bhttp::field::access_control_expose_headers, http::kCorsExposeHeaders);
  }
  if (serving->cors.varies_by_origin()) f.set(bhttp::field::vary, "Origin");
  if (!trace.request_id.empty()) f.set("x-request-id", trace.request_id);
  if (completion) {
    // A request rejected before any model was chosen (bad JSON, unknown model) has no route.
    if (trace.answered) {
      f.set("x-gateway-route", to_string(trace.route));
      f.set("x-gateway-model", trace.answered->name);
    }
    if (!trace.reason.empty()) f.set("x-gateway-escalation-reason", trace.reason);
    f.set("Server-Timing", server_timing(trace, Clock::now()));
  }
}

net::awaitable<bool> Exchange::reply(unsigned status, std::string body,
                                     std::string_view content_type) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), req.version()};
  add_common_headers(res.base());
  res.set(bhttp::field::content_type, content_type);
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  trace.status = status;
  trace.bytes_out += res.body().size();
  head_sent_ = true;
  client.expires_at(deadline);
  trace.first_byte = Clock::now();
  auto [ec, n] = co_await bhttp::async_write(client, res, kAsTuple);
  co_return !ec;
}

net::awaitable<bool> Exchange::reply_error(http::OpenAiError err) {
  if (!trace.error.empty() || err.code) trace.error = err.code.value_or(trace.error);
  if (trace.error.empty()) trace.error = err.type;
  bool written = co_await reply(err.status, err.body(), "application/json");
  co_return written;
}

net::awaitable<bool> Exchange::reply_preflight() {
  bhttp::response<bhttp::empty_body> res{bhttp::status::no_content, req.version()};
  add_common_headers(res.base());
  if (!allow_origin_.empty()) {
    res.set(bhttp::field::access_control_allow_methods, http::kCorsAllowMethods);
    auto asked_field = req[bhttp::field::access_control_request_headers];
    std::string_view asked(asked_field.data(), asked_field.size());
    res.set(bhttp::field::access_control_allow_headers,
            !asked.empty() && asked.size() <= http::kCorsMaxRequestHeadersBytes
                ? asked
                : http::kCorsDefaultAllowHeaders);
    res.set(bhttp::field::access_control_max_age, http::kCorsMaxAgeSeconds);
  }
  res.keep_alive(keep_alive);
  trace.status = 204;
  head_sent_ = true;
  client.expires_at(deadline);
  auto [ec, n] = co_await bhttp::async_write(client, res, kAsTuple);
  co_return !ec;
}

net::awaitable<bool> Exchange::begin_stream(unsigned status, std::string_view content_type) {
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), req.version()};
  add_common_headers(res.base());
  res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");  // tell a proxy in front of us not to buffer
  // HTTP/1.0 has no chunked encoding: the body runs until the connection closes.
  chunked_ = req.version() >= 11;
  if (!chunked_) keep_alive = false;
  res.keep_alive(keep_alive);
  res.chunked(chunked_);
  trace.status = status;
  head_sent_ = true;
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  client.expires_at(deadline);
  auto [ec, n] = co_await bhttp::async_write_header(client, sr, kAsTuple);
  co_return !ec;
}

net::awaitable<bool> Exchange::write_chunk(std::string_view bytes) {
  if (bytes.empty()) co_return true;  // an empty chunk would end the body
  if (trace.first_byte == Clock::time_point{}) trace.first_byte = Clock::now();
  trace.bytes_out += bytes.size();
  client.expires_at(deadline);
  net::const_buffer data(bytes.data(), bytes.size());
  // No co_await inside ?: or an if condition anywhere: GCC 12 miscompiles the temporaries.
  error_code ec;
  if (chunked_) {
    auto [wec, n] = co_await net::async_write(client, bhttp::make_chunk(data), kAsTuple);
    ec = wec;
  } else {
    auto [wec, n] = co_await net::async_write(client, data, kAsTuple);
    ec = wec;
  }
  co_return !ec;
}

net::awaitable<bool> Exchange::end_stream() {
  if (!chunked_) co_return true;  // the connection's close ends the body
  client.expires_at(deadline);
  auto [ec, n] = co_await net::async_write(client, bhttp::make_chunk_last(), kAsTuple);
  co_return !ec;
}

}  // namespace gw
