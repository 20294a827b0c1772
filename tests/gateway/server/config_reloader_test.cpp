#include "gateway/server/config_reloader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gw {
namespace {

// A reload that waits inside until the test lets it go: "a reload is running" is a state the
// test holds, not a moment it hopes to catch.
class HeldReload {
 public:
  void operator()() {
    std::unique_lock lock(mu_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_ >= entered_; });
  }
  void wait_entered(int n) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return entered_ >= n; });
  }
  void release_one() {
    std::lock_guard lock(mu_);
    ++released_;
    changed_.notify_all();
  }
  int entered() {
    std::lock_guard lock(mu_);
    return entered_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int entered_ = 0;
  int released_ = 0;
};

TEST(ConfigReloader, RequestsDuringAReloadCoalesceIntoOneMore) {
  HeldReload held;
  ConfigReloader reloader([&] { held(); });
  EXPECT_EQ(reloader.request(), ConfigReloader::Queued::started);
  held.wait_entered(1);
  EXPECT_EQ(reloader.request(), ConfigReloader::Queued::queued);
  EXPECT_EQ(reloader.request(), ConfigReloader::Queued::coalesced);
  EXPECT_EQ(reloader.request(), ConfigReloader::Queued::coalesced);
  held.release_one();
  held.wait_entered(2);  // the queued one runs after the first, once
  held.release_one();
  reloader.stop();
  EXPECT_EQ(held.entered(), 2);
}

TEST(ConfigReloader, StopWaitsForTheRunningReloadAndDropsTheQueuedOne) {
  HeldReload held;
  std::atomic<bool> saw_stopping{false};
  ConfigReloader* self = nullptr;
  ConfigReloader reloader([&] {
    held();
    saw_stopping = self->stopping();
  });
  self = &reloader;
  reloader.request();
  held.wait_entered(1);
  reloader.request();  // queued: dropped by stop()
  std::atomic<bool> waiting{false};
  std::thread stopper([&] { reloader.stop([&] { waiting = true; }); });
  while (!waiting) std::this_thread::yield();  // stop() said it waits, and has not returned
  held.release_one();
  stopper.join();
  EXPECT_TRUE(saw_stopping.load());  // the running reload could tell its result is not wanted
  EXPECT_EQ(held.entered(), 1);
  EXPECT_EQ(reloader.request(), ConfigReloader::Queued::refused);
}

TEST(ConfigReloader, ReloadsNeverOverlapUnderRequestsFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kRequestsPerThread = 2000;
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> runs{0};
  ConfigReloader reloader([&] {
    int now = ++inside;
    int seen = most_inside.load();
    while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
    }
    ++runs;
    --inside;
  });
  std::vector<std::thread> senders;
  senders.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    senders.emplace_back([&] {
      for (int j = 0; j < kRequestsPerThread; ++j) reloader.request();
    });
  }
  for (auto& t : senders) t.join();
  while (runs.load() == 0) std::this_thread::yield();  // the requests were not lost
  reloader.stop();  // a request still queued is dropped: stop() does not run it
  EXPECT_EQ(most_inside.load(), 1);
  EXPECT_LE(runs.load(), kThreads * kRequestsPerThread);
}

TEST(ConfigReloader, StopWithNothingRunningReturnsAndIsIdempotent) {
  int runs = 0;
  ConfigReloader reloader([&] { ++runs; });
  bool waited = false;
  reloader.stop([&] { waited = true; });
  reloader.stop();
  EXPECT_FALSE(waited);
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace gw
