#pragma once
// Metrics: the Prometheus registry and the families the gateway publishes. Children are created
// once (at start, or when a config is loaded) and kept by reference: the hot path only adds.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>

namespace gw {

struct Runtime;

class Metrics {
 public:
  Metrics();

  std::shared_ptr<prometheus::Registry> registry;

  prometheus::Gauge& inflight_requests;
  prometheus::Counter& reloads_ok;
  prometheus::Counter& reloads_failed;

  // Values read at scrape time rather than counted per request.
  void refresh_process_metrics(const Runtime& rt);

 private:
  prometheus::Gauge& resident_memory_bytes_;
  prometheus::Gauge& virtual_memory_bytes_;
  prometheus::Gauge& open_fds_;
  prometheus::Gauge& max_fds_;
  prometheus::Gauge& start_time_seconds_;
  prometheus::Counter& cpu_seconds_;
};

}  // namespace gw
