#pragma once
// ConfigReloader: SIGHUP's work (read the YAML, compile the routing rules, build the
// ServingConfig) runs on a thread of its own, so no I/O thread stops serving its clients for it.
// Reloads run one at a time; SIGHUPs that arrive during a reload coalesce into one more reload
// after it, which reads the file as it is then: the latest file wins and none is lost.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace gw {

class ConfigReloader {
 public:
  // What request() found.
  enum class Queued {
    started,    // the reloader was idle: a reload starts now
    queued,     // a reload is running: one more runs after it
    coalesced,  // one more was already queued: this request joins it
    refused,    // shutting down: nothing runs
  };

  // `reload` does one whole reload (read, build, publish, log, count) on the reloader's thread.
  explicit ConfigReloader(std::function<void()> reload);
  ~ConfigReloader() { stop(); }
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;

  // Never blocks on a reload; any thread.
  Queued request();

  // A running reload cannot be interrupted (a file read, a YAML parse, an RE2 compile): stop()
  // waits for it and drops a queued one; `reload` sees stopping() from then on and can discard
  // its result. `while_waiting` is called, before the wait, when a reload is running. Idempotent.
  void stop(const std::function<void()>& while_waiting = {});
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

 private:
  void run();

  std::function<void()> reload_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool running_ = false;  // guarded by mu_
  bool pending_ = false;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: starts once the state above exists
};

}  // namespace gw
