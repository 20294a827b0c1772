#pragma once
// State shared by every worker thread of one Simulator: options, counters, the last request.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "gateway/sim/simulator.hpp"

namespace gw::sim {

struct LastRequest {
  std::string body;
  std::string authorization;
  std::string path;
};

class SimState {
 public:
  explicit SimState(Options options);

  const Options& options() const { return options_; }
  // nullptr when profiles are configured and none has this name.
  const ModelProfile* find_profile(std::string_view model) const;
  const std::string& models_body() const { return models_body_; }

  void record(std::string_view body, std::string_view authorization, std::string_view path);
  LastRequest last_request() const;
  Stats stats() const;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> active_streams{0};
  std::atomic<uint64_t> aborted_streams{0};
  std::atomic<uint64_t> next_id{0};

 private:
  Options options_;
  ModelProfile default_profile_;
  std::string models_body_;
  mutable std::mutex last_mutex_;
  LastRequest last_;
};

// Keeps a gauge up for the lifetime of a scope, whichever way the scope exits.
class GaugeHold {
 public:
  explicit GaugeHold(std::atomic<uint64_t>& gauge) : gauge_(gauge) {
    gauge_.fetch_add(1, std::memory_order_relaxed);
  }
  ~GaugeHold() { gauge_.fetch_sub(1, std::memory_order_relaxed); }
  GaugeHold(const GaugeHold&) = delete;
  GaugeHold& operator=(const GaugeHold&) = delete;

 private:
  std::atomic<uint64_t>& gauge_;
};

}  // namespace gw::sim
