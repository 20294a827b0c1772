#include "gateway/chat/client_watch.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "gateway/exchange/exchange.hpp"

namespace gw::chat {

namespace {

// The client is peeked at only once the work has run this long. Most requests through a local
// gateway (short answers, cache hits, errors) end sooner, and a peek costs a syscall (Asio tries
// it at once) and an operation on each of them. A client that leaves within this time is noticed
// when it has passed (its upstream call cut then), or by the session's next read or write if the
// work ended first.
constexpr auto kPeekAfter = std::chrono::milliseconds(5);
// One non-blocking read takes up to this much (on the stack, so an idle watch costs the
// connection's buffer nothing).
constexpr std::size_t kClientReadChunkBytes = 4096;

}  // namespace

std::shared_ptr<ClientWatch> ClientWatch::start(Exchange& ex,
                                                net::steady_timer::time_point cut_at) {
  auto watch = std::make_shared<ClientWatch>(ex, cut_at);
  try {
    // The cut's timer first wakes the watch: a work that answers before then is never peeked.
    watch->cut_.expires_at(std::min(cut_at, Clock::now() + kPeekAfter));
    watch->arm_cut();
  } catch (...) {
    watch->stop();  // an armed handler must not outlive the exchange (out of memory)
    throw;
  }
  return watch;
}

ClientWatch::ClientWatch(Exchange& ex, net::steady_timer::time_point cut_at)
    : ex_(&ex), cut_(ex.client.get_executor()), cut_at_(cut_at) {}

void ClientWatch::arm_cut() {
  cut_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_cut(ec); });
}

void ClientWatch::stop() noexcept {
  if (!ex_) return;
  if (waiting_) {
    error_code ignored;
    ex_->client.socket().cancel(ignored);
  }
  ex_ = nullptr;
  try {
    cut_.cancel();
  } catch (const boost::system::system_error&) {
    // Asio's signature throws; cancelling a timer does not fail. A cut that fires anyway finds
    // the watch stopped and does nothing.
  }
}

void ClientWatch::wait_readable() {
  // Past the bound the client is not read any more: only the cut can end the watch now.
  if (ex_->client_buffer.size() >= kMaxPipelinedBytes) return;
  waiting_ = true;
  // A peek, not async_wait: a wait is never speculative, so Asio re-arms the socket in epoll
  // (an epoll_ctl per request) to have bytes or a close that came earlier reported again. A
  // receive needs no re-arm: bytes or a close that came after the last read are either
  // reported by epoll still, or already were, and then Asio tries the peek at once.
  ex_->client.socket().async_receive(
      net::buffer(&peeked_, 1), tcp::socket::message_peek,
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_readable(ec); });
}

void ClientWatch::on_readable(const error_code& ec) {
  waiting_ = false;
  if (!ex_ || verdict_ != Watched::watching) return;  // stopped, or cancelled by the cut
  try {
    if (ec || !take_pipelined()) {
      end(Watched::client_gone);
      return;
    }
    wait_readable();
  } catch (const std::exception&) {
    // Out of memory for the pipelined bytes or the next wait. A plain handler must not throw
    // (it would leave io_context::run()): the request ends as if its client had gone.
    end(Watched::client_gone);
  }
}

void ClientWatch::on_cut(const error_code& ec) {
  if (ec || !ex_ || verdict_ != Watched::watching) return;
  if (!peeking_ && Clock::now() < cut_at_) {  // the work outlasted kPeekAfter: watch the client
    peeking_ = true;
    try {
      wait_readable();
      cut_.expires_at(cut_at_);
      arm_cut();
    } catch (const std::exception&) {
      end(Watched::client_gone);  // out of memory: as on_readable
    }
    return;
  }
  // The work may be writing to the client: its write ends now too, and the 504 (or the
  // stream's error event) is written after the work is gone.
  error_code ignored;
  ex_->client.socket().cancel(ignored);
  end(Watched::cut);
}

bool ClientWatch::take_pipelined() {
  const int fd = ex_->client.socket().native_handle();
  std::array<char, kClientReadChunkBytes> chunk;
  while (ex_->client_buffer.size() < kMaxPipelinedBytes) {
    const std::size_t room = std::min(chunk.size(), kMaxPipelinedBytes - ex_->client_buffer.size());
    const ssize_t n = ::recv(fd, chunk.data(), room, MSG_DONTWAIT);
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      net::buffer_copy(ex_->client_buffer.prepare(got), net::buffer(chunk.data(), got));
      ex_->client_buffer.commit(got);
      continue;
    }
    if (n == 0) return false;  // the client closed its connection
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
  return true;
}

void ClientWatch::end(Watched why) {
  verdict_ = why;
  ex_->cancel.emit(net::cancellation_type::all);
}

}  // namespace gw::chat
