#pragma once
// One keep-alive connection to an upstream, plain TCP or TLS. Internal to the I/O .cpp files.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <variant>

#include "base/net.hpp"
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

  // Bytes received after the response and not parsed: in the read buffer or, on TLS, inside the
  // TLS layer (a decrypted record, or records still encrypted in its input BIO). A kernel peek
  // sees none of these; reused, they would be read as the answer to the next request.
  bool holds_unread_bytes() {
    if (buffer.size() != 0) return true;
    auto* tls = std::get_if<TlsStream>(&stream);
    if (tls == nullptr) return false;
    SSL* ssl = tls->native_handle();
    return SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
  }

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
