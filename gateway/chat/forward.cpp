#include "gateway/chat/forward.hpp"

#include <boost/asio/this_coro.hpp>

#include "gateway/chat/client_watch.hpp"
#include "gateway/chat/stream_relay.hpp"

namespace gw::chat {

namespace {

// Bounded: a non-streamed completion larger than this is not relayed.
constexpr std::size_t kMaxUpstreamBodyBytes = 64 * 1024 * 1024;
// Bounded: an upstream's error body is read up to this size.
constexpr std::size_t kMaxUpstreamErrorBytes = 1024 * 1024;
// Once server.request_timeout_ms has passed the client socket refuses writes; the 504 or the
// stream's error event that says so gets this much longer to be written.
constexpr std::chrono::milliseconds kDeadlineReplyGraceMs{1000};

// A relayed answer is not parsed whole (that would cost a parse per request); its first byte
// tells a JSON object from an HTML page or plain text.
bool looks_like_json_object(std::string_view body) {
  auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '{';
}

// The cold paths of relay() are coroutines of their own: GCC keeps every local and temporary
// of a coroutine (error strings, the whole-body path's buffer) in its frame, and relay()'s frame
// lives as long as the stream it relays.
net::awaitable<void> reply_call_failure(FlowContext& cx, upstream::CallError err,
                                        const upstream::ModelStream& call, const config::Model& m) {
  co_await cx.client.reply_error(call_failure(err, call, m));
}

net::awaitable<void> reply_status_error(FlowContext& cx, upstream::ModelStream& call,
                                        const config::Model& m) {
  auto error = co_await upstream_status_error(call, m, cx.serving->secrets);
  co_await cx.client.reply_error(std::move(error));
}

// A whole (non-streamed) answer: read, checked, passed on.
net::awaitable<void> relay_whole(FlowContext& cx, upstream::ModelStream& call, UpstreamLeg& leg,
                                 const config::Model& m) {
  std::string answer;
  auto rerr = co_await call.read_all(answer, kMaxUpstreamBodyBytes);
  if (rerr != upstream::CallError::none) {
    co_await cx.client.reply_error(call_failure(rerr, call, m));
    co_return;
  }
  leg.first_token = leg.done = Clock::now();
  if (!looks_like_json_object(answer)) {
    leg.error = "bad_response";
    co_await cx.client.reply_error(http::make_error(
        502, "upstream " + m.name + " answered with something that is not a JSON completion",
        "upstream_error"));
    co_return;
  }
  if (Usage u = usage_in(answer); u.present) {
    leg.prompt_tokens = u.prompt_tokens;
    leg.completion_tokens = u.completion_tokens;
    leg.usage_reported = true;
  }
  co_await cx.client.reply(call.status(), std::move(answer), "application/json");
}

// A stream: its head, then its events as they come.
net::awaitable<void> relay_stream(FlowContext& cx, upstream::ModelStream& call, UpstreamLeg& leg,
                                  const config::Model& m, const StreamEdits& edits) {
  bool started = co_await cx.client.begin_stream(200, "text/event-stream");
  if (!started) co_return;
  SseReader events(call);
  co_await relay_events(cx, events, leg, m, edits);
}

}  // namespace

net::awaitable<void> relay(FlowContext& cx, const config::Model& m, http::OutgoingBody body,
                           bool stream, const StreamEdits& edits, std::string_view path) {
  UpstreamLeg& leg = cx.trace.new_leg(m);
  leg.prepared = Clock::now();
  cx.trace.answered = &m;
  std::unique_ptr<upstream::ModelStream> call = cx.models.open(m, leg, cx.deadline);
  auto err = co_await call->start(std::move(body), stream, cx.trace.request_id, path);
  if (err != upstream::CallError::none) {
    co_await reply_call_failure(cx, err, *call, m);
    co_return;
  }
  if (call->status() < 200 || call->status() > 299) {
    co_await reply_status_error(cx, *call, m);
    co_return;
  }
  if (stream && call->event_stream()) {
    co_await relay_stream(cx, *call, leg, m, edits);
    co_return;
  }
  co_await relay_whole(cx, *call, leg, m);
}

http::OpenAiError call_failure(upstream::CallError err, const upstream::ModelStream& call,
                               const config::Model& m) {
  using upstream::CallError;
  const upstream::ConnectError connect = call.connect_error();
  switch (err) {
    case CallError::timeout:
      return http::make_error(
          504,
          "upstream " + m.name + " did not answer within " +
              std::to_string(connect == upstream::ConnectError::timeout ? m.connect_timeout_ms
                                                                        : m.timeout_ms) +
              " ms",
          "upstream_timeout");
    case CallError::connect:
      return http::make_error(
          502,
          "upstream " + m.name + " is unreachable (" + std::string(upstream::to_string(connect)) +
              " failed: " + (call.connect_detail().empty() ? "" : call.connect_detail() + "; ") +
              m.upstream + ")",
          "upstream_unreachable");
    case CallError::deadline:
      return deadline_error();
    case CallError::bad_status:
      return http::make_error(502,
                              "upstream " + m.name + " answered with HTTP status " +
                                  std::to_string(call.status()) +
                                  ", which cannot carry a completion",
                              "upstream_error");
    case CallError::too_large:
      return http::make_error(502, "upstream " + m.name + " sent a response over the size limit",
                              "upstream_error");
    default:
      return http::make_error(
          502, "upstream " + m.name + " failed: " + std::string(upstream::to_string(err)),
          "upstream_error");
  }
}

net::awaitable<http::OpenAiError> upstream_status_error(upstream::ModelStream& call,
                                                        const config::Model& m,
                                                        const http::SecretRedactor& secrets) {
  std::string upstream_body;
  auto err = co_await call.read_all(upstream_body, kMaxUpstreamErrorBytes);
  if (err != upstream::CallError::none && err != upstream::CallError::too_large) {
    co_return call_failure(err, call, m);
  }
  if (secrets.holds_secret(upstream_body)) upstream_body = secrets.apply(upstream_body);
  http::OpenAiError error = http::wrap_upstream_error(call.status(), upstream_body, m.name);
  call.for_each_header([&](std::string_view name, std::string_view value) {
    if (secrets.holds_secret(value)) return;  // an upstream echoing the key it was sent
    http::keep_rate_limit_hint(error.headers, name, value);
  });
  co_return error;
}

Clock::time_point request_deadline(const Exchange& ex) {
  return ex.trace.received + std::chrono::milliseconds(ex.cfg().server.request_timeout_ms);
}

http::OpenAiError deadline_error() {
  return http::make_error(504, "the request did not complete within server.request_timeout_ms",
                          std::string(kRequestTimeoutCode));
}

net::awaitable<void> until_client_leaves(Exchange& ex, net::awaitable<void> work) {
  // At the deadline the work's upstream calls fail (CallError::deadline) and it answers 504 or
  // ends its stream with an error event: writes to the client get a grace for that answer.
  const Clock::time_point deadline = request_deadline(ex);
  ex.deadline = std::max(ex.deadline, deadline + kDeadlineReplyGraceMs);
  auto watch = ClientWatch::start(ex, deadline + kDeadlineReplyGraceMs);
  const StopWatchOnExit stop_on_exit{*watch};
  std::exception_ptr failed;
  try {
    co_await std::move(work);
  } catch (...) {
    failed = std::current_exception();
  }
  watch->stop();
  const Watched why = watch->verdict();
  // The session goes on (a 504 to write, the next request to read): its coroutine is no longer
  // cancelled.
  if (why != Watched::watching) {
    co_await net::this_coro::reset_cancellation_state();
  }
  // A cancelled work ends by an exception; one that threw by itself is a bug the session
  // answers (500, or the stream's error event).
  if (failed && why == Watched::watching) std::rethrow_exception(failed);
  // A client that leaves, or a cut that comes, once the whole answer is written cut nothing
  // short: the request is logged as answered.
  if (why == Watched::watching || ex.complete()) co_return;
  if (why == Watched::client_gone) {
    // The client left first: work was cancelled and its upstream connection closed.
    ex.keep_alive = false;
    ex.trace.status = 499;  // nginx's "client closed request", for the log
    ex.trace.error = "client_gone";
  } else {
    // Our deadline, not the client: the work did not answer within its grace and was cut.
    ex.keep_alive = false;
    if (!ex.head_sent()) {
      co_await ex.reply_error(deadline_error());
    } else if (ex.stream_open()) {
      co_await ex.end_stream_with_error(deadline_error());
    }
    ex.trace.status = 504;
    ex.trace.error = kRequestTimeoutCode;
  }
}

net::awaitable<void> forward(Exchange& ex, const config::Model& model, std::string body,
                             bool stream, const StreamEdits& edits, std::string_view path) {
  FlowContext cx = context_of(ex);
  co_await until_client_leaves(ex, relay(cx, model, std::move(body), stream, edits, path));
}

}  // namespace gw::chat
