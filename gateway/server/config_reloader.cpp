#include "gateway/server/config_reloader.hpp"

namespace gw {

ConfigReloader::ConfigReloader(std::function<void()> reload)
    : reload_(std::move(reload)), thread_([this] { run(); }) {}

ConfigReloader::Queued ConfigReloader::request() {
  std::lock_guard lock(mu_);
  if (stopping()) return Queued::refused;
  if (pending_) return Queued::coalesced;
  pending_ = true;
  const bool was_running = running_;
  wake_.notify_one();
  return was_running ? Queued::queued : Queued::started;
}

void ConfigReloader::stop(const std::function<void()>& while_waiting) {
  bool running = false;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
    pending_ = false;
    running = running_;
    wake_.notify_one();
  }
  if (running && while_waiting) while_waiting();
  if (thread_.joinable()) thread_.join();
}

void ConfigReloader::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stopping(); });
    if (stopping()) return;
    pending_ = false;
    running_ = true;
    lock.unlock();
    reload_();  // a request() meanwhile sets pending_ again: one more round
    lock.lock();
    running_ = false;
  }
}

}  // namespace gw
