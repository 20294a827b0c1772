#pragma once
// ServingConfig: a validated config snapshot plus what is compiled from it once (CORS policy,
// routing rules). Immutable and shared; a reload builds a new one and swaps it in.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "gateway/config/config.hpp"
#include "gateway/http/cors.hpp"
#include "gateway/http/redact.hpp"
#include "policies/rules.hpp"

namespace gw {

class Metrics;
class MetricsTable;

struct ServingConfig {
  // Throws std::invalid_argument when the config cannot be served (the loader prevents it).
  // `metrics` may be null (no recording).
  ServingConfig(config::Snapshot c, Metrics* metrics);
  ServingConfig(const ServingConfig&) = delete;
  ServingConfig& operator=(const ServingConfig&) = delete;
  ~ServingConfig();

  config::Snapshot cfg;
  http::CorsPolicy cors;
  policies::Rules rules;
  const config::Model* draft;             // routing.draft
  const config::Model* escalate;          // routing.escalate
  std::unique_ptr<MetricsTable> metrics;  // this config's metric children; null = not recorded
  http::SecretRedactor secrets;  // upstream and client keys: never relayed in errors or logged
};

using ServingSnapshot = std::shared_ptr<const ServingConfig>;

// Holds the current snapshot. Readers on I/O threads keep a thread-local copy and only take the
// lock when the generation moved, so the hot path is one relaxed atomic load.
class ConfigStore {
 public:
  explicit ConfigStore(ServingSnapshot initial) : current_(std::move(initial)) {}

  void replace(ServingSnapshot next) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }

  ServingSnapshot load() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  // The snapshot a new request starts with; cheap on the hot path. By value: the thread-local
  // cache is overwritten by the next reload, so a reference to it would dangle across co_await.
  ServingSnapshot current() const {
    thread_local const ConfigStore* owner = nullptr;
    thread_local std::uint64_t seen = ~0ull;
    thread_local ServingSnapshot cached;
    auto gen = generation_.load(std::memory_order_acquire);
    if (owner != this || seen != gen) {
      cached = load();
      seen = gen;
      owner = this;
    }
    return cached;
  }

 private:
  mutable std::mutex mu_;
  ServingSnapshot current_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace gw
