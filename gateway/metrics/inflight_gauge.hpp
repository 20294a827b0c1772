#pragma once
// gateway_inflight_requests held up for one completion request, whichever way it exits.

#include "gateway/metrics/metrics.hpp"

namespace gw {

class InflightGauge {
 public:
  explicit InflightGauge(Metrics* m) : g_(m ? &m->inflight_requests : nullptr) {
    if (g_) g_->Increment();
  }
  ~InflightGauge() {
    if (g_) g_->Decrement();
  }
  InflightGauge(const InflightGauge&) = delete;
  InflightGauge& operator=(const InflightGauge&) = delete;

 private:
  prometheus::Gauge* g_;
};

}  // namespace gw
