#pragma once
// The admin listener: liveness, readiness, Prometheus metrics.

#include "gateway/server/exchange.hpp"

namespace gw::admin {

net::awaitable<void> handle_healthz(Exchange& ex);
// Ready = a config is loaded and at least one upstream accepts a TCP connection.
net::awaitable<void> handle_readyz(Exchange& ex);
net::awaitable<void> handle_metrics(Exchange& ex);

}  // namespace gw::admin
