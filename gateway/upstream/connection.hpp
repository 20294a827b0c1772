#pragma once
// One keep-alive connection to an upstream, plain TCP or TLS. Internal to the I/O .cpp files.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <variant>

#include "gateway/server/net.hpp"
#include "gateway/trace/request_trace.hpp"

namespace gw::upstream {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  explicit Connection(PlainStream s) : stream(std::move(s)) {}
  explicit Connection(TlsStream s) : stream(std::move(s)) {}

  std::variant<PlainStream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  Clock::time_point idle_until{};  // pooled: closed by the pool's reaper at this time
  bool reused = false;             // came from the pool: the peer may have closed it meanwhile

  beast::tcp_stream& tcp() {
    if (auto* p = std::get_if<PlainStream>(&stream)) return *p;
    return beast::get_lowest_layer(std::get<TlsStream>(stream));
  }
  // Calls f with the concrete stream; every alternative must return the same type.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream);
  }
};

}  // namespace gw::upstream
