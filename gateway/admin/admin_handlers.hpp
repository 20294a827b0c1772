#pragma once
// The admin listener: liveness, readiness, Prometheus metrics.

#include "gateway/exchange/exchange.hpp"

namespace gw::admin {

net::awaitable<void> handle_healthz(Exchange& ex);
// Ready = a config is loaded and at least one upstream is reachable (a TCP connection and, for
// https, a TLS handshake). Every upstream is probed at once, each within one deadline; the body
// names each failing upstream and why.
net::awaitable<void> handle_readyz(Exchange& ex);
net::awaitable<void> handle_metrics(Exchange& ex);

}  // namespace gw::admin
