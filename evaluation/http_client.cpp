#include "evaluation/http_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <charconv>
#include <chrono>

#include "base/net.hpp"

namespace gw::eval {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<HttpEndpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.ends_with("/v1")) path.remove_suffix(3);
  HttpEndpoint ep;
  ep.base_path = std::string(path);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.ends_with(']')) {
    ep.host = std::string(authority);
  } else {
    ep.host = std::string(authority.substr(0, colon));
    const std::string_view port = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), ep.port);
    if (ec != std::errc{} || end != port.data() + port.size() || ep.port == 0) return std::nullopt;
  }
  if (ep.host.size() > 2 && ep.host.front() == '[') ep.host = ep.host.substr(1, ep.host.size() - 2);
  if (ep.host.empty()) return std::nullopt;
  return ep;
}

net::awaitable<HttpReply> http_call(HttpEndpoint endpoint, HttpRequest request) {
  HttpReply reply;
  auto executor = co_await net::this_coro::executor;
  const auto timeout = std::chrono::milliseconds(request.timeout_ms);
  tcp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(
      endpoint.host, std::to_string(endpoint.port), tcp::resolver::numeric_service, kAsTuple);
  if (rec) {
    reply.error = "resolve " + endpoint.host + ": " + rec.message();
    co_return reply;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [cec, ep] = co_await stream.async_connect(results, kAsTuple);
  if (cec) {
    reply.error =
        "connect " + endpoint.host + ":" + std::to_string(endpoint.port) + ": " + cec.message();
    co_return reply;
  }
  bhttp::request<bhttp::string_body> req{
      request.method == "GET" ? bhttp::verb::get : bhttp::verb::post,
      endpoint.base_path + request.path, 11};
  req.set(bhttp::field::host, endpoint.host);
  req.set(bhttp::field::user_agent, "hybrid-gateway-eval");
  if (!request.api_key.empty()) req.set(bhttp::field::authorization, "Bearer " + request.api_key);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (req.method() == bhttp::verb::post) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(request.body);
    req.prepare_payload();
  }
  req.keep_alive(false);
  stream.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kAsTuple);
  if (wec) {
    reply.error = "write: " + wec.message();
    co_return reply;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxResponseBodyBytes);
  stream.expires_after(timeout);
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
  if (hec) {
    reply.error = "read header: " + hec.message();
    co_return reply;
  }
  reply.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    std::string name = lower(field.name_string());
    auto [it, fresh] = reply.headers.emplace(name, std::string(field.value()));
    if (!fresh) it->second += ", " + std::string(field.value());
  }
  while (!parser.is_done()) {
    stream.expires_after(timeout);
    auto [bec, bn] = co_await bhttp::async_read_some(stream, buffer, parser, kAsTuple);
    if (bec) {
      reply.error = "read body: " + bec.message();
      break;
    }
    if (request.on_body) request.on_body(parser.get().body());
  }
  reply.body = std::move(parser.get().body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace gw::eval
