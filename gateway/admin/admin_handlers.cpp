#include "gateway/admin/admin_handlers.hpp"

#include <prometheus/text_serializer.h>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "gateway/log/access_log.hpp"
#include "gateway/log/decision_log.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/upstream/pool.hpp"

namespace gw::admin {

namespace {

// Every upstream is probed at once and every probe ends by this deadline, so /readyz answers
// within it even when each upstream is black-holed (the Kubernetes readinessProbe in deploy/
// gives up after 2 s).
constexpr std::uint32_t kReadyProbeTimeoutMs = 1000;

struct ProbeOutcome {
  upstream::ConnectError error = upstream::ConnectError::none;
  std::string detail;  // why, in words, when it failed
};

// Reachable = what a request needs before its first byte: the name resolved, a TCP connection
// and, for https, the TLS handshake with the certificate checked, each bounded by `deadline`.
net::awaitable<ProbeOutcome> probe(upstream::Pool& pool, const config::Model& model,
                                   Clock::time_point deadline) {
  ProbeOutcome out;
  out.error = co_await pool.probe(model, out.detail, deadline);
  co_return out;
}

}  // namespace

net::awaitable<void> handle_healthz(Exchange& ex) {
  co_await ex.reply(200, R"({"status":"ok"})", "application/json");
}

net::awaitable<void> handle_readyz(Exchange& ex) {
  const auto& models = ex.cfg().models;  // ex.serving keeps them alive across the probes
  const auto deadline = Clock::now() + std::chrono::milliseconds(kReadyProbeTimeoutMs);
  auto executor = co_await net::this_coro::executor;

  // One probe per upstream (Pool::key_of): models sharing one are probed once.
  std::map<std::string, std::size_t> probe_of;  // upstream -> index into `probes`
  std::vector<std::size_t> model_probe;         // parallel to `models`
  using ProbeOp = decltype(net::co_spawn(executor, probe(ex.deps.pool, models.front(), deadline),
                                         net::deferred));
  std::vector<ProbeOp> probes;
  for (const auto& m : models) {
    auto [it, added] = probe_of.emplace(upstream::Pool::key_of(m.url), probes.size());
    if (added) {
      probes.push_back(net::co_spawn(executor, probe(ex.deps.pool, m, deadline), net::deferred));
    }
    model_probe.push_back(it->second);
  }
  auto [order, failures, outcomes] =
      co_await net::experimental::make_parallel_group(std::move(probes))
          .async_wait(net::experimental::wait_for_all(), net::use_awaitable);
  (void)order;

  nlohmann::json upstreams = nlohmann::json::object();
  nlohmann::json failing = nlohmann::json::object();
  bool any = false;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const auto& m = models[i];
    const std::size_t p = model_probe[i];
    ProbeOutcome outcome = outcomes[p];
    if (failures[p]) outcome = {upstream::ConnectError::connect, "probe failed"};
    const bool ok = outcome.error == upstream::ConnectError::none;
    upstreams[m.name] = ok;
    any = any || ok;
    if (!ok) {
      failing[m.name] = {{"upstream", upstream::Pool::key_of(m.url)},
                         {"error", std::string(upstream::to_string(outcome.error))},
                         {"detail", outcome.detail}};
    }
  }
  // SPEC: ready = a config is loaded and at least one upstream is reachable.
  nlohmann::json body = {
      {"status", any ? "ready" : "not ready"}, {"upstreams", upstreams}, {"failing", failing}};
  co_await ex.reply(any ? 200 : 503, body.dump(), "application/json");
}

namespace {

// The logs count what they lose on their own threads; a counter catches up at scrape time.
void catch_up(prometheus::Counter& counter, std::uint64_t count) {
  const auto total = static_cast<double>(count);
  const double seen = counter.Value();
  if (total > seen) counter.Increment(total - seen);
}

}  // namespace

net::awaitable<void> handle_metrics(Exchange& ex) {
  auto& metrics = ex.deps.metrics;
  std::string text;
  if (metrics) {
    metrics->refresh_process_metrics();
    if (const AccessLog* log = ex.deps.log)
      catch_up(metrics->log_lines_dropped, log->dropped_lines());
    catch_up(metrics->decision_log_lines_dropped, decision_log().dropped_lines());
    catch_up(metrics->decision_log_write_errors, decision_log().write_errors());
    text = prometheus::TextSerializer().Serialize(metrics->registry->Collect());
  }
  co_await ex.reply(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace gw::admin
