#include "gateway/server/gateway.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <csignal>
#include <thread>

#include "gateway/config/load.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/log/access_log.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/server/api_router.hpp"
#include "gateway/server/client_session.hpp"
#include "gateway/server/config_reloader.hpp"

namespace gw {

namespace {

// Accept errors such as EMFILE must not turn into a busy loop (beast#2319), nor flood the log.
constexpr std::uint32_t kAcceptErrorBackoffMs = 100;
constexpr std::uint32_t kAcceptErrorLogIntervalMs = 1000;
// drain_timeout_ms passed: requests still in flight are cut (streams get an error event) and
// get this long to say so before the threads stop.
constexpr std::uint32_t kDrainCutGraceMs = 1500;
constexpr std::uint32_t kDrainPollMs = 20;
constexpr unsigned kMaxThreads = 1024;

std::string to_string(const tcp::endpoint& ep) {
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

tcp::endpoint endpoint_of(const config::ListenAddress& l) {
  auto host = l.host == "localhost" ? std::string("127.0.0.1") : l.host;
  return tcp::endpoint(net::ip::make_address(host), l.port);
}

tcp::acceptor open_acceptor(net::io_context& ioc, const tcp::endpoint& ep, bool reuse_port) {
  tcp::acceptor a(ioc);
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  if (reuse_port) {
    int one = 1;
    ::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  a.bind(ep);
  a.listen(net::socket_base::max_listen_connections);
  return a;
}

net::awaitable<void> accept_loop(ThreadContext& t, tcp::acceptor& acceptor, Router route) {
  // At most one accept_error line a second in the whole process, counting the errors it
  // stands for; the thread that wins the exchange logs.
  Runtime& rt = t.runtime;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      rt.unlogged_accept_errors.fetch_add(1, std::memory_order_relaxed);
      const std::int64_t now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
              .count();
      std::int64_t last = rt.accept_error_logged_at_ms.load(std::memory_order_relaxed);
      if ((last == 0 || now_ms - last >= kAcceptErrorLogIntervalMs) &&
          rt.accept_error_logged_at_ms.compare_exchange_strong(last, now_ms,
                                                               std::memory_order_relaxed)) {
        std::uint64_t count = rt.unlogged_accept_errors.exchange(0, std::memory_order_relaxed);
        if (rt.log) {
          rt.log->event(
              "warn", "accept_error", ec.message(),
              "\"count\":" + std::to_string(count) + ",\"thread\":" + std::to_string(t.index));
        }
      }
      net::steady_timer backoff(acceptor.get_executor(),
                                std::chrono::milliseconds(kAcceptErrorBackoffMs));
      co_await backoff.async_wait(kAsTuple);
      continue;
    }
    // One signal per connection, bound to its session: the handler owns it, so it lives as
    // long as the session coroutine that can be cancelled through it.
    auto cancel = std::make_shared<net::cancellation_signal>();
    net::co_spawn(
        acceptor.get_executor(), run_client_session(t, std::move(socket), route, *cancel),
        net::bind_cancellation_slot(cancel->slot(), [&t, cancel](const std::exception_ptr& e) {
          if (!e || !t.runtime.log) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            t.runtime.log->event("error", "session_failed", x.what());
          } catch (...) {
            t.runtime.log->event("error", "session_failed", "unknown exception");
          }
        }));
  }
}

class Daemon {
 public:
  explicit Daemon(GatewayOptions o)
      : opts_(std::move(o)), runtime_(std::make_shared<ServingConfig>(opts_.config, recording())) {
    runtime_.log = &log_;
    runtime_.log_prompts = opts_.log_prompts;
    runtime_.metrics = &metrics_;
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(net::ssl::verify_peer);
  }

  int run() {
    const auto& s = opts_.config->server;
    unsigned n = s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency());
    n = std::min(n, kMaxThreads);
    for (unsigned i = 0; i < n; ++i) {
      threads_.push_back(std::make_unique<ThreadContext>(runtime_, tls_));
      threads_.back()->index = i;
    }
    tcp::endpoint api_ep, admin_ep;
    try {
      api_ep = endpoint_of(s.listen);
      for (auto& t : threads_) {
        acceptors_.push_back(std::make_unique<tcp::acceptor>(open_acceptor(t->ioc, api_ep, true)));
        api_ep = acceptors_.back()->local_endpoint();  // port 0 resolved by the first bind
      }
      admin_ep = endpoint_of(s.admin_listen);
      admin_acceptor_ =
          std::make_unique<tcp::acceptor>(open_acceptor(threads_[0]->ioc, admin_ep, false));
      admin_ep = admin_acceptor_->local_endpoint();
    } catch (const std::exception& e) {
      log_.event("error", "listen_failed", e.what());
      return 1;
    }
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      net::co_spawn(threads_[i]->ioc, accept_loop(*threads_[i], *acceptors_[i], route_api),
                    net::detached);
    }
    net::co_spawn(threads_[0]->ioc, accept_loop(*threads_[0], *admin_acceptor_, route_admin),
                  net::detached);

    auto signals = std::make_unique<net::signal_set>(threads_[0]->ioc, SIGHUP, SIGTERM, SIGINT);
    wait_signal(*signals);
    log_.event("info", "listening", "hybrid-gateway is serving",
               "\"listen\":\"" + to_string(api_ep) + "\",\"admin\":\"" + to_string(admin_ep) +
                   "\",\"threads\":" + std::to_string(n) + ",\"config\":\"" + opts_.config->source +
                   "\"");

    const auto& auth = opts_.config->auth;
    if (!auth.api_keys_env.empty() && auth.api_keys.empty()) {
      log_.event("warn", "auth_open",
                 "auth.api_keys_env names " + auth.api_keys_env +
                     ", which is unset: the gateway accepts requests without a key");
    }
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < threads_.size(); ++i) {
      workers.emplace_back([t = threads_[i].get()] { t->ioc.run(); });
    }
    threads_[0]->ioc.run();
    for (auto& w : workers) w.join();
    stop_reloader();
    // Drained: a second SIGTERM from an impatient supervisor must not turn exit 0 into a kill.
    signals.reset();
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
    if (opts_.on_stopped) opts_.on_stopped();
    log_.event("info", "stopped", "drained, exiting",
               "\"inflight\":" + std::to_string(runtime_.inflight_requests.load()));
    return 0;
  }

 private:
  void wait_signal(net::signal_set& signals) {
    signals.async_wait([this, &signals](const error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        request_reload();
        wait_signal(signals);
      } else {
        start_drain();
      }
    });
  }

  // On thread 0 (the signal handler): the reload itself runs on the reloader's thread.
  void request_reload() {
    if (opts_.reload_path.empty()) {
      log_.event("warn", "reload_skipped", "no config file to reload (demo mode)");
      return;
    }
    switch (reloader_.request()) {
      case ConfigReloader::Queued::started:
      case ConfigReloader::Queued::refused:
        break;
      case ConfigReloader::Queued::queued:
        log_.event("info", "reload_queued", "a reload is running; the file is read again after it",
                   "\"coalesced\":false");
        break;
      case ConfigReloader::Queued::coalesced:
        log_.event("info", "reload_queued", "a reload is running and another is queued; joined it",
                   "\"coalesced\":true");
        break;
    }
  }

  // On the reloader's thread: reading the YAML and compiling the rules block nobody's client.
  void reload() {
    const std::string where = "\"config\":\"" + opts_.reload_path + "\"";
    log_.event("info", "reload_started", "reading the config file", where);
    try {
      reload_from_file();
    } catch (const std::exception& e) {  // bad_alloc on a huge file, say: the old config stays
      metrics_.reloads_failed.Increment();
      log_.event("error", "reload_failed", e.what(), where);
      return;
    }
  }

  void reload_from_file() {
    const auto started = Clock::now();
    auto result = config::load_file(opts_.reload_path);
    if (!result.config) {
      metrics_.reloads_failed.Increment();
      for (const auto& p : result.problems) log_.event("error", "reload_rejected", p.str());
      log_.event("error", "reload_failed", "invalid config rejected; the previous one stays");
      return;
    }
    const auto current = runtime_.config.load();
    const auto& old_server = current->cfg->server;
    const auto& new_server = result.config->server;
    if (old_server.listen.host != new_server.listen.host ||
        old_server.listen.port != new_server.listen.port ||
        old_server.admin_listen.port != new_server.admin_listen.port ||
        old_server.threads != new_server.threads) {
      log_.event("warn", "reload_partial",
                 "listen addresses and threads change only on restart; the rest is applied");
    }
    ServingSnapshot next;
    try {
      next = std::make_shared<ServingConfig>(result.config, recording());
    } catch (const std::invalid_argument& e) {
      metrics_.reloads_failed.Increment();
      log_.event("error", "reload_failed", e.what());
      return;
    }
    if (reloader_.stopping()) {
      log_.event("warn", "reload_abandoned", "shutting down: the reloaded config is not applied");
      return;
    }
    runtime_.config.replace(std::move(next));
    metrics_.reloads_ok.Increment();
    const auto took_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    log_.event(
        "info", "reloaded", "new requests use the reloaded config",
        "\"config\":\"" + opts_.reload_path + "\",\"duration_ms\":" + std::to_string(took_ms));
  }

  // Stop accepting, close idle keep-alive connections, let in-flight requests (streams too)
  // finish up to drain_timeout_ms, then stop every thread.
  void start_drain() {
    if (runtime_.draining.exchange(true)) return;
    log_.event("info", "draining", "stopped accepting; finishing in-flight requests",
               "\"inflight\":" + std::to_string(runtime_.inflight_requests.load()));
    drain_deadline_ = Clock::now() + std::chrono::milliseconds(
                                         runtime_.config.load()->cfg->server.drain_timeout_ms);
    error_code ignored;
    admin_acceptor_->close(ignored);
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      net::post(threads_[i]->ioc, [this, i] {
        error_code ec;
        acceptors_[i]->close(ec);
        for (auto& c : threads_[i]->clients) {
          if (c.idle) c.stream->socket().cancel(ec);
        }
        threads_[i]->pool.close_idle();
      });
    }
    drain_timer_ = std::make_unique<net::steady_timer>(threads_[0]->ioc);
    poll_drain();
  }

  void poll_drain() {
    // Idle connections that became idle after the drain began are closed on each poll too.
    for (auto& t : threads_) {
      net::post(t->ioc, [t = t.get()] {
        error_code ec;
        for (auto& c : t->clients) {
          if (c.idle) c.stream->socket().cancel(ec);
        }
      });
    }
    const auto now = Clock::now();
    if (runtime_.inflight_requests.load() != 0 && now >= drain_deadline_ && !cut_started_) {
      cut_in_flight();
      cut_deadline_ = now + std::chrono::milliseconds(kDrainCutGraceMs);
    }
    if (runtime_.inflight_requests.load() == 0 || (cut_started_ && now >= cut_deadline_)) {
      if (cut_started_) {
        log_.event("warn", "drain_timeout",
                   "drain_timeout_ms passed with requests in flight: they were cut",
                   "\"cut\":" + std::to_string(runtime_.requests_cut_by_drain.load()) +
                       ",\"inflight\":" + std::to_string(runtime_.inflight_requests.load()));
      }
      for (auto& t : threads_) t->ioc.stop();
      return;
    }
    drain_timer_->expires_after(std::chrono::milliseconds(kDrainPollMs));
    drain_timer_->async_wait([this](const error_code& ec) {
      if (!ec) poll_drain();
    });
  }

  // Every request still in flight ends now: its client read is cancelled, which ends the work
  // racing it (the upstream call included), and its session tells the client why and logs it.
  void cut_in_flight() {
    cut_started_ = true;
    for (auto& t : threads_) {
      net::post(t->ioc, [t = t.get()] {
        error_code ec;
        for (auto& c : t->clients) {
          if (!c.exchange) continue;
          c.exchange->cut_by_drain = true;
          c.stream->socket().cancel(ec);
        }
      });
    }
  }

  // A reload cannot be interrupted mid-parse: the exit waits for it (a config file is at most
  // kMaxConfigFileBytes) and its result is dropped.
  void stop_reloader() {
    reloader_.stop([this] {
      log_.event("info", "reload_wait", "stopping: waiting for the running reload to end");
    });
  }

  Metrics* recording() { return opts_.record_metrics ? &metrics_ : nullptr; }

  GatewayOptions opts_;
  AccessLog log_;
  Metrics metrics_;
  Runtime runtime_;
  net::ssl::context tls_{net::ssl::context::tls_client};
  std::vector<std::unique_ptr<ThreadContext>> threads_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::unique_ptr<tcp::acceptor> admin_acceptor_;
  std::unique_ptr<net::steady_timer> drain_timer_;
  Clock::time_point drain_deadline_{};
  bool cut_started_ = false;  // touched by thread 0 only (the drain timer)
  Clock::time_point cut_deadline_{};
  // Last: its thread runs reload(), which uses the members above; destroyed (joined) first.
  ConfigReloader reloader_{[this] { reload(); }};
};

}  // namespace

int run_gateway(GatewayOptions options) {
  Daemon d(std::move(options));
  return d.run();
}

}  // namespace gw
