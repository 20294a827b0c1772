#pragma once
// Metrics: the Prometheus registry and every family of SPEC.md. Children are created once per
// label set (per config for model labels) and kept by pointer: the hot path only adds.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "gateway/metrics/shadow_metrics.hpp"
#include "gateway/trace/request_trace.hpp"

namespace gw {

struct Runtime;

// Bucket boundaries in seconds. The gateway's own overhead is microseconds; model stages follow
// OpenTelemetry's GenAI buckets (1 ms to 120 s).
const prometheus::Histogram::BucketBoundaries& prep_buckets_seconds();
const prometheus::Histogram::BucketBoundaries& model_buckets_seconds();

enum class Stage { prep, upstream_send, first_token, completion, total, count };
inline constexpr std::size_t kStages = static_cast<std::size_t>(Stage::count);
inline constexpr std::size_t kRoutes = 5;         // direct, draft, escalated, fallback, none
inline constexpr std::size_t kStatusCodes = 600;  // HTTP status codes 0..599

// gateway_upstream_errors_total{kind}: a fixed set, so the label stays bounded.
inline constexpr std::array<std::string_view, 12> kUpstreamErrorKinds = {
    "connect",  "connect_timeout", "resolve",      "tls",         "timeout",  "closed",
    "protocol", "too_large",       "bad_response", "empty_draft", "http_4xx", "http_5xx"};

class Metrics;

// The children for one configured model (or "none"), created when a config is loaded.
struct ModelSeries {
  std::array<prometheus::Histogram*, kStages> stage{};
  prometheus::Counter* prompt_tokens = nullptr;
  prometheus::Counter* completion_tokens = nullptr;
  prometheus::Counter* cost_usd = nullptr;
  std::array<prometheus::Counter*, kUpstreamErrorKinds.size()> upstream_errors{};
  // gateway_requests_total by route and status: created on first use (Family::Add once per
  // label set, then cached here), since statuses are many but few are ever seen.
  std::array<std::array<std::atomic<prometheus::Counter*>, kStatusCodes>, kRoutes> requests{};
};

// A config's view of the metrics: series for its models, indexed like config::Config::models.
class MetricsTable {
 public:
  MetricsTable(Metrics& metrics, const config::Config& cfg);

  // Every number a finished request contributes: requests, stages, tokens, cost, baseline,
  // escalations, upstream errors.
  void record(const RequestTrace& t) const;

 private:
  ModelSeries& series_of(const config::Model* m) const;
  prometheus::Counter& requests_counter(ModelSeries& s, Route route, bool routed, unsigned status,
                                        const std::string& model) const;

  Metrics& metrics_;
  const config::Config& cfg_;
  const config::Model* baseline_model_;
  std::vector<std::unique_ptr<ModelSeries>> models_;
  std::unique_ptr<ModelSeries> none_;  // requests rejected before a model was chosen
};

class Metrics {
 public:
  Metrics();

  std::shared_ptr<prometheus::Registry> registry;
  ShadowMetrics shadow{*registry};  // shadow escalation (gateway/shadow/)

  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& stage_duration;
  prometheus::Family<prometheus::Counter>& tokens;
  prometheus::Family<prometheus::Counter>& cost;
  prometheus::Counter& baseline_cost;
  prometheus::Family<prometheus::Counter>& escalations;
  prometheus::Family<prometheus::Counter>& would_escalate;
  prometheus::Family<prometheus::Counter>& upstream_errors;
  prometheus::Counter& token_estimates;
  prometheus::Gauge& inflight_requests;
  prometheus::Counter& reloads_ok;
  prometheus::Counter& reloads_failed;
  prometheus::Counter& drain_cut_requests;  // in flight when drain_timeout_ms passed
  prometheus::Counter& log_lines_dropped;   // set at scrape time from the access log's count
  // Set at scrape time from the decision log's counts (routing.decision_log).
  prometheus::Counter& decision_log_lines_dropped;
  prometheus::Counter& decision_log_write_errors;

  // Escalation reasons are a fixed set: their children exist from the start.
  prometheus::Counter& escalation(std::string_view reason);
  prometheus::Counter& would_escalate_for(std::string_view reason);

  // Values read at scrape time rather than counted per request.
  void refresh_process_metrics();

 private:
  std::vector<std::pair<std::string_view, prometheus::Counter*>> escalation_children_;
  std::vector<std::pair<std::string_view, prometheus::Counter*>> would_escalate_children_;
  prometheus::Gauge& resident_memory_bytes_;
  prometheus::Gauge& virtual_memory_bytes_;
  prometheus::Gauge& open_fds_;
  prometheus::Gauge& max_fds_;
  prometheus::Gauge& start_time_seconds_;
  prometheus::Counter& cpu_seconds_;
};

}  // namespace gw
