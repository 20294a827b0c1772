#pragma once
// Asio/Beast vocabulary for the .cpp files that do I/O. Deliberately not included by the
// pure headers (config, policies, http helpers): those stay cheap to compile.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace gw {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Errors come back as values on the I/O path: auto [ec, n] = co_await op(kAsTuple).
inline constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

}  // namespace gw
