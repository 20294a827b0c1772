#include "gateway/shadow/sampler.hpp"

namespace gw::shadow {

namespace {
constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;
constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;
}  // namespace

double sample_point(std::uint64_t seed, std::string_view request_id) {
  std::uint64_t h = kFnvOffset;
  for (int i = 0; i < 8; ++i) {
    h ^= (seed >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  for (unsigned char c : request_id) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * kTwoToMinus53;
}

std::int64_t SpendWindow::minute_of(Clock::time_point t) {
  // +1: minute 0 is told apart from the zero-initialised (empty) buckets.
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count() + 1;
}

void SpendWindow::add(double usd, Clock::time_point now) {
  const auto m = minute_of(now);
  const auto i = static_cast<std::size_t>(m % static_cast<std::int64_t>(kBuckets));
  std::lock_guard lock(mu_);
  if (minute_[i] != m) {
    minute_[i] = m;
    usd_[i] = 0;
  }
  usd_[i] += usd;
}

double SpendWindow::spent(Clock::time_point now) const {
  const auto m = minute_of(now);
  double total = 0;
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (minute_[i] != 0 && m - minute_[i] < static_cast<std::int64_t>(kBuckets)) total += usd_[i];
  }
  return total;
}

}  // namespace gw::shadow
