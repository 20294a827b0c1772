#pragma once
// A client connection: reads requests one after another (keep-alive) within the limits and
// timeouts of `server:`, and hands each to a router.

#include "gateway/exchange/exchange.hpp"
#include "gateway/server/runtime.hpp"

namespace gw {

using Router = net::awaitable<void> (*)(Exchange&);

// `cancel` must be bound to the coroutine running the session (bind_cancellation_slot): a
// request's client watch emits it to end the work when the client leaves.
net::awaitable<void> run_client_session(ThreadContext& thread, tcp::socket socket, Router route,
                                        net::cancellation_signal& cancel);

}  // namespace gw
