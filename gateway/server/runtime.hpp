#pragma once
// What the I/O threads share (Runtime) and what each owns alone (ThreadContext).

#include <atomic>
#include <cstdint>
#include <list>

#include "base/net.hpp"
#include "gateway/exchange/handler_deps.hpp"
#include "gateway/exchange/serving_config.hpp"
#include "gateway/upstream/call.hpp"
#include "gateway/upstream/pool.hpp"

namespace gw {

class AccessLog;
class Exchange;
class Metrics;

struct Runtime {
  explicit Runtime(ServingSnapshot initial) : config(std::move(initial)) {}

  ConfigStore config;
  std::atomic<bool> draining{false};
  bool log_prompts = false;  // --log-prompts
  std::atomic<std::int64_t> inflight_requests{0};
  std::atomic<std::uint64_t> requests_cut_by_drain{0};  // ended early at drain_timeout_ms
  // accept_error lines are rate-limited for the whole process, not per accept loop: at the fd
  // limit every thread fails at once.
  std::atomic<std::uint64_t> unlogged_accept_errors{0};
  std::atomic<std::int64_t> accept_error_logged_at_ms{0};  // steady clock; 0 = never
  AccessLog* log = nullptr;
  Metrics* metrics = nullptr;
};

// Everything one I/O thread owns: its io_context, its upstream pool, its client connections.
struct ThreadContext {
  ThreadContext(Runtime& rt, net::ssl::context& tls)
      : runtime(rt), pool(tls), deps{streams,    pool,   ioc,           rt.draining,
                                     rt.metrics, rt.log, rt.log_prompts} {}
  // Pooled sockets close while their io_context lives; coroutines the io_context destroys
  // afterwards (after a drain timeout) find the pool shut.
  ~ThreadContext() { pool.shut_down(); }
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;

  Runtime& runtime;
  upstream::Pool pool;  // declared before ioc: outlives the coroutines ioc destroys
  upstream::PooledStreams streams{pool};
  // Every client connection of this thread, and whether it waits for its next request: the
  // idle ones are closed at once when draining starts. One entry per connection, not per request.
  struct ClientEntry {
    beast::tcp_stream* stream;
    bool idle;
    Exchange* exchange;  // the request being answered, if any: drain may cut it
  };
  // Declared before ioc: a session erases its own entry (RAII), also when ioc destroys it.
  std::list<ClientEntry> clients;
  net::io_context ioc{1};  // one thread runs it: Asio may skip locking
  unsigned index = 0;
  HandlerDeps deps;  // what this thread's handlers get: its streams, its io_context, the logs
};

}  // namespace gw
