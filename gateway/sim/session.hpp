#pragma once
// One HTTP/1.1 keep-alive connection to the simulator, as a coroutine.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/sim/state.hpp"

namespace gw::sim {

boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket, SimState& state);

}  // namespace gw::sim
