#pragma once
// ClientWatch: while a request is being answered, notices the client closing its connection
// (and keeps the bytes it pipelines meanwhile) and cuts the work at its deadline plus grace.
//
// Callbacks, not a coroutine racing the work (`work || watch`): that cost a coroutine frame, two
// co_spawn frames and a parallel group per request, ~1.4 KB for as long as a stream is held. The
// work is not spawned either: it is cancelled through the signal bound to the session's own
// coroutine (Exchange::cancel). The watch peeks (MSG_PEEK) instead of holding a read: nothing is
// ever read into a buffer behind the session's back, so stopping it needs no wait for a read to
// come back.

#include <memory>

#include "base/net.hpp"

namespace gw {
class Exchange;
}

namespace gw::chat {

// How the watch on a client ended (so far).
enum class Watched {
  watching,     // neither: the work is the one that answers
  client_gone,  // the client closed its connection (or it failed)
  cut,          // the request's deadline and its grace passed: the work is cut
};

class ClientWatch : public std::enable_shared_from_this<ClientWatch> {
 public:
  // Watches `ex`'s client until stop(), from a few milliseconds in (kPeekAfter); at `cut_at`
  // the work is cut. When the client goes or the cut comes, ex.cancel is emitted
  // (cancellation_type::all): what the session awaits ends. Bytes the client has already sent
  // (or its close) count, not only those after the next readiness event.
  static std::shared_ptr<ClientWatch> start(Exchange& ex, net::steady_timer::time_point cut_at);

  explicit ClientWatch(Exchange& ex, net::steady_timer::time_point cut_at);
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;
  ~ClientWatch() = default;

  Watched verdict() const { return verdict_; }
  // The work is over: no handler touches the exchange after this.
  void stop() noexcept;

 private:
  void arm_cut();
  void wait_readable();
  void on_readable(const error_code& ec);
  void on_cut(const error_code& ec);
  // Takes what the client has sent, without blocking; false once it has closed or failed.
  bool take_pipelined();
  void end(Watched why);

  Exchange* ex_;           // null once stopped
  net::steady_timer cut_;  // wakes the watch to start peeking, then at cut_at_ to cut
  net::steady_timer::time_point cut_at_;
  bool peeking_ = false;  // the client is watched (kPeekAfter has passed)
  Watched verdict_ = Watched::watching;
  bool waiting_ = false;  // a peek is pending on the client socket
  char peeked_ = 0;       // where the peek copies the byte it leaves in the socket
};

// Stops a watch when it goes out of scope, also when the coroutine holding it is destroyed
// mid-wait: no handler of the watch outlives the exchange.
struct StopWatchOnExit {
  explicit StopWatchOnExit(ClientWatch& w) : watch(w) {}
  StopWatchOnExit(const StopWatchOnExit&) = delete;
  StopWatchOnExit& operator=(const StopWatchOnExit&) = delete;
  ~StopWatchOnExit() { watch.stop(); }
  ClientWatch& watch;
};

}  // namespace gw::chat
