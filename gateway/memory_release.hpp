#pragma once
// The daemon's allocator is tcmalloc (gateway/CMakeLists.txt), which keeps the pages of freed
// spans mapped so that they are reused without page faults. After a burst of 1 MB request
// bodies that left ~60 MB held by an idle gateway. Releasing every span as it frees
// (`aggressive_memory_decommit`) gave the memory back but tripled the CPU of 1 MB requests
// (every body re-faulted its pages); releasing what is free every kMemoryReleaseIntervalS
// costs a few page faults per interval instead (docs/benchmarks.md).

#include <gperftools/malloc_extension_c.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gw {

inline constexpr std::chrono::seconds kMemoryReleaseIntervalS{10};

// Runs from construction to destruction: a thread that hands tcmalloc's free pages back to the OS.
class MemoryReleaser {
 public:
  MemoryReleaser()
      : thread_([this] {
          std::unique_lock lock(mu_);
          while (!wake_.wait_for(lock, kMemoryReleaseIntervalS, [this] { return stop_; })) {
            MallocExtension_ReleaseFreeMemory();
          }
        }) {}
  ~MemoryReleaser() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  MemoryReleaser(const MemoryReleaser&) = delete;
  MemoryReleaser& operator=(const MemoryReleaser&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // guarded by mu_
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace gw
