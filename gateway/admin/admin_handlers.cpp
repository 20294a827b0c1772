#include "gateway/admin/admin_handlers.hpp"

#include <prometheus/text_serializer.h>
#include <nlohmann/json.hpp>

#include "gateway/log/access_log.hpp"
#include "gateway/metrics/metrics.hpp"

namespace gw::admin {

namespace {
// A readiness probe must answer quickly even when every upstream is black-holed.
constexpr std::uint32_t kReadinessConnectTimeoutMs = 1000;

net::awaitable<bool> reachable(const config::UpstreamUrl& u) {
  auto ex = co_await net::this_coro::executor;
  error_code ec;
  auto ip = net::ip::make_address(u.host, ec);
  beast::tcp_stream s(ex);
  s.expires_after(std::chrono::milliseconds(kReadinessConnectTimeoutMs));
  if (!ec) {
    auto [cec] = co_await s.async_connect(tcp::endpoint(ip, u.port), kAsTuple);
    co_return !cec;
  }
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(u.host, std::to_string(u.port), kAsTuple);
  if (rec) co_return false;
  auto [cec, ep] = co_await s.async_connect(results, kAsTuple);
  co_return !cec;
}
}  // namespace

net::awaitable<void> handle_healthz(Exchange& ex) {
  co_await ex.reply(200, R"({"status":"ok"})", "application/json");
}

net::awaitable<void> handle_readyz(Exchange& ex) {
  nlohmann::json upstreams = nlohmann::json::object();
  bool any = false;
  std::map<std::string, bool> seen;  // models sharing an upstream are probed once
  for (const auto& m : ex.cfg().models) {
    auto key = m.url.host + ":" + std::to_string(m.url.port);
    auto it = seen.find(key);
    // Not `co_await` inside `?:`: GCC 12 miscompiles it.
    bool ok = false;
    if (it != seen.end()) {
      ok = it->second;
    } else {
      ok = co_await reachable(m.url);
      seen[key] = ok;
    }
    upstreams[m.name] = ok;
    any = any || ok;
  }
  nlohmann::json body = {{"status", any ? "ready" : "not ready"}, {"upstreams", upstreams}};
  co_await ex.reply(any ? 200 : 503, body.dump(), "application/json");
}

net::awaitable<void> handle_metrics(Exchange& ex) {
  auto& metrics = ex.thread.runtime.metrics;
  std::string text;
  if (metrics) {
    metrics->refresh_process_metrics();
    // The access log counts what it drops; the counter catches up at scrape time.
    if (const AccessLog* log = ex.thread.runtime.log) {
      auto dropped = static_cast<double>(log->dropped_lines());
      double seen = metrics->log_lines_dropped.Value();
      if (dropped > seen) metrics->log_lines_dropped.Increment(dropped - seen);
    }
    text = prometheus::TextSerializer().Serialize(metrics->registry->Collect());
  }
  co_await ex.reply(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace gw::admin
