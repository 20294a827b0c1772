#pragma once
// Gateway: the daemon. Owns the I/O threads (one io_context each, listeners bound with
// SO_REUSEPORT so the kernel spreads connections), the admin listener, signals, reload, drain.
// Boost-free header: main.cpp stays cheap to compile.

#include <functional>
#include <memory>
#include <string>

#include "gateway/config/config.hpp"

namespace gw {

struct GatewayOptions {
  config::Snapshot config;
  std::string reload_path;  // what SIGHUP re-reads; empty = nothing to reload (demo)
  bool log_prompts = false;
  bool record_metrics = true;        // false: benchmarks measure what recording costs
  std::function<void()> on_stopped;  // e.g. stop the demo's simulators
};

// Runs until SIGTERM/SIGINT and the drain that follows. Returns the process exit code:
// 0 after a clean drain, 1 when a listener cannot be opened.
int run_gateway(GatewayOptions options);

}  // namespace gw
