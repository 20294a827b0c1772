#pragma once
// HandlerDeps: what a request handler may use beyond its own request, handed over by the server
// for each I/O thread. Narrow on purpose: handlers never see the thread, its sessions or the
// server; a test builds one from fakes.

#include <atomic>

#include "gateway/upstream/model_stream.hpp"

namespace boost::asio {
class io_context;
}

namespace gw {
namespace upstream {
class Pool;
}

class AccessLog;
class Metrics;

struct HandlerDeps {
  upstream::ModelStreams& models;     // this thread's upstream calls (over its pool)
  upstream::Pool& pool;               // its connections (the /readyz probes open them)
  boost::asio::io_context& ioc;       // this thread's: work that outlives a request (shadow calls)
  const std::atomic<bool>& draining;  // shutdown started: responses close their connection
  Metrics* metrics = nullptr;         // null: nothing recorded
  AccessLog* log = nullptr;           // null: nothing logged
  bool log_prompts = false;           // --log-prompts
};

}  // namespace gw
