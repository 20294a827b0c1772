#include <sys/socket.h>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <list>
#include <stdexcept>
#include <thread>

#include "base/net.hpp"
#include "gateway/sim/session.hpp"
#include "gateway/sim/simulator.hpp"
#include "gateway/sim/state.hpp"

namespace gw::sim {
namespace {

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// After a failed accept (e.g. EMFILE) wait before retrying instead of spinning (beast#2319).
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, SimState& state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      net::steady_timer pause(acceptor.get_executor(), kAcceptRetryDelay);
      co_await pause.async_wait(kAsTuple);
      continue;
    }
    net::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), state),
                  net::detached);
  }
}

tcp::endpoint resolve(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw std::invalid_argument("llm-sim: not an IP address: \"" + host + "\"");
  return tcp::endpoint(address, port);
}

}  // namespace

// One io_context per thread, each with its own SO_REUSEPORT acceptor: the kernel spreads
// connections and no state is shared on the I/O path except atomics.
struct Worker {
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};  // declared after ioc: destroyed before it
  std::thread thread;
};

struct Simulator::Impl {
  explicit Impl(Options options) : state(std::move(options)) {}
  SimState state;  // outlives the workers: sessions reference it until their frames are gone
  std::list<Worker> workers;
  uint16_t port = 0;
};

Simulator::Simulator(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() {
  stop();
}

uint16_t Simulator::start() {
  if (!impl_->workers.empty()) return impl_->port;
  const Options& options = impl_->state.options();
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  tcp::endpoint endpoint = resolve(options.host, options.port);
  try {
    for (unsigned i = 0; i < threads; ++i) {
      Worker& worker = impl_->workers.emplace_back();
      worker.acceptor.open(endpoint.protocol());
      worker.acceptor.set_option(tcp::acceptor::reuse_address(true));
      // Only when sharing the port ourselves: a lone simulator must fail on a taken port.
      if (threads > 1) worker.acceptor.set_option(reuse_port(true));
      worker.acceptor.bind(endpoint);
      worker.acceptor.listen(net::socket_base::max_listen_connections);
      if (i == 0) endpoint.port(worker.acceptor.local_endpoint().port());  // resolves port 0
    }
  } catch (...) {
    impl_->workers.clear();
    throw;
  }
  impl_->port = endpoint.port();
  for (Worker& worker : impl_->workers) {
    net::co_spawn(worker.ioc, accept_loop(worker.acceptor, impl_->state), net::detached);
    worker.thread = std::thread([&ioc = worker.ioc] { ioc.run(); });
  }
  return impl_->port;
}

void Simulator::stop() {
  if (!impl_) return;
  for (Worker& worker : impl_->workers) worker.ioc.stop();
  for (Worker& worker : impl_->workers) {
    if (worker.thread.joinable()) worker.thread.join();
  }
  // Destroying each io_context destroys the suspended session frames, closing their sockets.
  impl_->workers.clear();
}

uint16_t Simulator::port() const {
  return impl_->port;
}

Stats Simulator::stats() const {
  return impl_->state.stats();
}

}  // namespace gw::sim
