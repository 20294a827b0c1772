#pragma once
// Which requests are shadowed, and what shadow calls may spend. Pure code, no I/O.

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace gw::shadow {

// A point in [0,1) fixed by (seed, request id): a request is sampled at rate r when its point is
// below r. Deterministic, so a client that sends x-request-id (and a test) knows exactly which
// requests were shadowed; request ids the gateway makes up carry a random prefix, so across
// restarts the sample is random. FNV-1a over the seed's 8 bytes and the id, then SplitMix64's
// finaliser; the top 53 bits make the double. (tests/integration/test_shadow.py mirrors this.)
double sample_point(std::uint64_t seed, std::string_view request_id);
inline bool sampled(double rate, std::uint64_t seed, std::string_view request_id) {
  return rate > 0 && sample_point(seed, request_id) < rate;
}

// USD spent over the last hour, in one-minute buckets (a bucket older than an hour is reused).
// Thread-safe: shadow calls finish on every I/O thread.
class SpendWindow {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kBuckets = 60;
  static constexpr std::chrono::minutes kBucketWidth{1};

  void add(double usd, Clock::time_point now);
  double spent(Clock::time_point now) const;

 private:
  static std::int64_t minute_of(Clock::time_point t);
  mutable std::mutex mu_;
  std::array<double, kBuckets> usd_{};
  std::array<std::int64_t, kBuckets> minute_{};  // which minute each bucket holds
};

}  // namespace gw::shadow
