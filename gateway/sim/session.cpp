#include "gateway/sim/session.hpp"

#include <sys/socket.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "base/net.hpp"
#include "gateway/sim/completions.hpp"
#include "gateway/sim/embeddings.hpp"
#include "gateway/sim/reply.hpp"
#include "gateway/sim/responses_api.hpp"

namespace gw::sim {
namespace {

using Clock = std::chrono::steady_clock;
using namespace net::experimental::awaitable_operators;

constexpr uint64_t kMaxBodyBytes = 16 * 1024 * 1024;
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
// A stalled response re-arms its timer this often; the peer watch ends it sooner.
constexpr auto kStallRecheck = std::chrono::hours(1);

enum class After { keep_open, close };
using HeaderList = std::vector<std::pair<std::string, std::string>>;
// The OpenAI APIs served besides chat, each by its own wire format.
enum class Api { responses, completions, embeddings };

// What an API server that limits rates sends with a 429/503: when to retry, and the budget.
HeaderList rate_limit_headers(const ReplyPlan& plan) {
  if (!plan.retry_after_s) return {};
  const std::string s = std::to_string(*plan.retry_after_s);
  return {{"retry-after", s},
          {"retry-after-ms", std::to_string(uint64_t{*plan.retry_after_s} * 1000)},
          {"x-ratelimit-limit-requests", "60"},
          {"x-ratelimit-remaining-requests", "0"},
          {"x-ratelimit-reset-requests", s + "s"}};
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view error_type(unsigned status) {
  if (status == 401) return "authentication_error";
  if (status == 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

class Connection {
 public:
  Connection(tcp::socket socket, SimState& state) : socket_(std::move(socket)), state_(state) {}

  net::awaitable<void> run() {
    GaugeHold open(state_.open_connections);
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;  // fresh per message: no state leaks
      parser.body_limit(kMaxBodyBytes);
      parser.header_limit(kMaxHeaderBytes);
      auto [ec, n] = co_await bhttp::async_read_header(socket_, buffer_, parser, kAsTuple);
      if (ec) break;  // end of stream, reset or malformed: nothing more to serve
      // curl sends `Expect: 100-continue` for large bodies and would otherwise wait a second.
      if (const auto expect = parser.get().find(bhttp::field::expect);
          expect != parser.get().end() && boost::beast::iequals(expect->value(), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, wn] = co_await net::async_write(socket_, net::buffer(kContinue), kAsTuple);
        if (wec) break;
      }
      auto [bec, bn] = co_await bhttp::async_read(socket_, buffer_, parser, kAsTuple);
      if (bec) break;
      bhttp::request<bhttp::string_body> request = parser.release();
      const After after = co_await dispatch(request);
      if (after == After::close || !request.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

 private:
  net::awaitable<After> dispatch(const bhttp::request<bhttp::string_body>& request) {
    const std::string_view path = path_of(request.target());
    const bool keep_alive = request.keep_alive();
    const bool get = request.method() == bhttp::verb::get;
    if (path == "/v1/chat/completions") {
      if (request.method() != bhttp::verb::post) co_return co_await method_not_allowed(keep_alive);
      co_return co_await chat(request);
    }
    for (const auto& [api_path, api] : {std::pair{"/v1/responses", Api::responses},
                                        std::pair{"/v1/completions", Api::completions},
                                        std::pair{"/v1/embeddings", Api::embeddings}}) {
      if (path != api_path) continue;
      if (request.method() != bhttp::verb::post) co_return co_await method_not_allowed(keep_alive);
      co_return co_await other_api(request, api);
    }
    if (path == "/healthz" && get)
      co_return co_await send(bhttp::status::ok, "text/plain", "ok\n", keep_alive);
    if (path == "/v1/models" && get) {
      co_return co_await send(bhttp::status::ok, "application/json", state_.models_body(),
                              keep_alive);
    }
    if (path == "/sim/stats" && get) {
      const Stats s = state_.stats();
      const nlohmann::json body = {{"requests", s.requests},
                                   {"open_connections", s.open_connections},
                                   {"active_streams", s.active_streams},
                                   {"aborted_streams", s.aborted_streams}};
      co_return co_await send(bhttp::status::ok, "application/json", body.dump(), keep_alive);
    }
    if (path == "/sim/last_request" && get) {
      const LastRequest last = state_.last_request();
      const nlohmann::json body = {
          {"body", last.body}, {"authorization", last.authorization}, {"path", last.path}};
      // Replace, not throw, on invalid UTF-8: the body is whatever the client sent.
      co_return co_await send(bhttp::status::ok, "application/json",
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                              keep_alive);
    }
    co_return co_await send(
        bhttp::status::not_found, "application/json",
        error_body("Unknown path " + std::string(path), "invalid_request_error", "", "unknown_url"),
        keep_alive);
  }

  net::awaitable<After> method_not_allowed(bool keep_alive) {
    co_return co_await send(
        bhttp::status::method_not_allowed, "application/json",
        error_body("Method not allowed", "invalid_request_error", "", "method_not_allowed"),
        keep_alive);
  }

  // Counts the request and records it for the test's inspection (body, authorization, target).
  void count_and_record(const bhttp::request<bhttp::string_body>& request) {
    state_.requests.fetch_add(1, std::memory_order_relaxed);
    const auto auth = request.find(bhttp::field::authorization);
    state_.record(request.body(),
                  auth == request.end() ? std::string_view{} : std::string_view(auth->value()),
                  request.target());
  }

  // A parsed request's reply plan, or how the request already ended: a request error, an
  // unknown model or a simulated failure (error, garbage, cut, stall) was sent. Shared by every
  // API so they fail alike.
  struct Planned {
    std::optional<ReplyPlan> plan;   // set: answer per plan (Outcome::answer or empty)
    After ended = After::keep_open;  // when no plan
  };
  net::awaitable<Planned> plan_or_end(const std::variant<ChatRequest, RequestError>& parsed,
                                      bool keep_alive) {
    Planned p;
    if (const auto* err = std::get_if<RequestError>(&parsed)) {
      p.ended = co_await send(
          static_cast<bhttp::status>(err->status), "application/json",
          error_body(err->message, "invalid_request_error", err->param, err->code), keep_alive);
      co_return p;
    }
    const ChatRequest& req = std::get<ChatRequest>(parsed);
    const ModelProfile* profile = state_.find_profile(req.model);
    if (profile == nullptr) {
      p.ended = co_await send(bhttp::status::not_found, "application/json",
                              error_body("The model '" + req.model + "' does not exist",
                                         "invalid_request_error", "model", "model_not_found"),
                              keep_alive);
      co_return p;
    }
    const ReplyPlan plan = plan_reply(req, *profile, state_.options().seed);
    switch (plan.outcome) {
      case Outcome::error:
        p.ended = co_await send(static_cast<bhttp::status>(plan.error_status), "application/json",
                                error_body("simulated upstream error",
                                           error_type(plan.error_status), "", "simulated_error"),
                                keep_alive, rate_limit_headers(plan));
        co_return p;
      case Outcome::garbage:
        p.ended = co_await send(bhttp::status::ok, "text/plain", "this is not json", keep_alive);
        co_return p;
      case Outcome::cut:
        p.ended = After::close;  // the client sees the connection close with no response
        co_return p;
      case Outcome::stall:
        co_await stall();
        p.ended = After::close;
        co_return p;
      case Outcome::answer:
      case Outcome::empty:
        break;
    }
    p.plan = plan;
    co_return p;
  }

  net::awaitable<After> chat(const bhttp::request<bhttp::string_body>& request) {
    count_and_record(request);
    const bool keep_alive = request.keep_alive();

    auto parsed = parse_chat_request(request.body());
    // Not `if (!co_await ...)`: GCC 12 miscompiles co_await inside a condition.
    Planned planned = co_await plan_or_end(parsed, keep_alive);
    if (!planned.plan) co_return planned.ended;
    const ChatRequest& chat = std::get<ChatRequest>(parsed);
    const ReplyPlan& plan = *planned.plan;
    const std::string id = "chatcmpl-sim-" + std::to_string(state_.next_id.fetch_add(1) + 1);
    if (chat.stream) co_return co_await stream(chat, plan, id, keep_alive);

    const auto ttft = std::chrono::milliseconds(plan.ttft_ms);
    const auto generation = per_token(plan) * static_cast<int64_t>(plan.tokens.size());
    // Not `if (!co_await ...)`: GCC 12 miscompiles co_await inside a condition.
    const bool waited = co_await pause_until(Clock::now() + ttft + generation);
    if (!waited) {
      state_.aborted_streams.fetch_add(1, std::memory_order_relaxed);
      co_return After::close;
    }
    co_return co_await send(bhttp::status::ok, "application/json",
                            completion_body(chat, plan, id, unix_now()), keep_alive);
  }

  net::awaitable<After> stream(const ChatRequest& chat, const ReplyPlan& plan,
                               const std::string& id, bool keep_alive) {
    GaugeHold active(state_.active_streams);
    pending_.assign(
        "HTTP/1.1 200 OK\r\nServer: llm-sim\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n");
    pending_ += keep_alive ? "\r\n" : "Connection: close\r\n\r\n";

    const ChunkRenderer chunks(chat, plan, id, unix_now());
    if (plan.outcome == Outcome::empty) {
      emit(chunks.no_choices());
    } else {
      const size_t n = plan.tokens.size();
      const size_t cut_at = plan.cut_after ? std::min<size_t>(*plan.cut_after, n) : SIZE_MAX;
      const size_t stall_at = plan.stall_after ? std::min<size_t>(*plan.stall_after, n) : SIZE_MAX;
      const auto first_token_at = Clock::now() + std::chrono::milliseconds(plan.ttft_ms);
      const auto gap = per_token(plan);
      // Each co_await into a local first: GCC 12 miscompiles co_await inside a condition.
      const bool started = co_await flush_then_pause(first_token_at);
      if (!started) co_return aborted();
      emit(chunks.role());
      size_t i = 0;
      for (; i < n && i != cut_at && i != stall_at; ++i) {
        // Absolute deadlines: pacing does not drift with write latency.
        const bool paced =
            co_await flush_then_pause(first_token_at + gap * static_cast<int64_t>(i));
        if (!paced) co_return aborted();
        emit(chunks.token(i));
      }
      if (i == cut_at) {  // abrupt: no final chunk, no [DONE]
        co_await flush();
        co_return After::close;
      }
      if (i == stall_at) {
        const bool flushed = co_await flush();
        if (flushed) co_await stall();
        co_return After::close;
      }
      // Tool calls after the text, paced like tokens: a first delta with the name, then the
      // arguments in pieces, as OpenAI streams them.
      size_t step = i;
      for (size_t c = 0; c < plan.tool_calls.size(); ++c) {
        for (const std::string& d : tool_call_deltas(plan.tool_calls[c], c, plan.argument_pieces)) {
          // The step is counted outside the co_await: its operand must be evaluated once.
          const auto at = first_token_at + gap * static_cast<int64_t>(step++);
          const bool paced = co_await flush_then_pause(at);
          if (!paced) co_return aborted();
          emit(chunks.delta(d));
        }
      }
      emit(chunks.finish());
    }
    if (chat.include_usage && plan.usage) emit(chunks.usage());
    emit(ChunkRenderer::done());
    pending_ += "0\r\n\r\n";  // last chunk
    const bool flushed = co_await flush();
    if (!flushed) co_return aborted();
    co_return After::keep_open;
  }

  // /v1/responses, /v1/completions, /v1/embeddings: the same planner and directives as chat,
  // each answer in its own API's wire format.
  net::awaitable<After> other_api(const bhttp::request<bhttp::string_body>& request, Api api) {
    count_and_record(request);
    const bool keep_alive = request.keep_alive();
    std::variant<ChatRequest, RequestError> parsed = RequestError{};
    EmbeddingsRequest embeddings;
    if (api == Api::embeddings) {
      auto e = parse_embeddings_request(request.body());
      if (auto* err = std::get_if<RequestError>(&e)) {
        parsed = *err;
      } else {
        embeddings = std::get<EmbeddingsRequest>(std::move(e));
        parsed = embeddings.chat;
      }
    } else {
      parsed = api == Api::responses ? parse_responses_request(request.body())
                                     : parse_completions_request(request.body());
    }
    // Not `if (!co_await ...)`: GCC 12 miscompiles co_await inside a condition.
    Planned planned = co_await plan_or_end(parsed, keep_alive);
    if (!planned.plan) co_return planned.ended;
    const ChatRequest& req = std::get<ChatRequest>(parsed);
    const ReplyPlan& plan = *planned.plan;
    // Not `if (!co_await ...)`: GCC 12 miscompiles co_await inside a condition.
    const bool waited =
        co_await pause_until(Clock::now() + std::chrono::milliseconds(plan.ttft_ms));
    if (!waited) co_return aborted();
    if (api == Api::embeddings) {
      co_return co_await send(bhttp::status::ok, "application/json",
                              embeddings_body(embeddings, plan), keep_alive);
    }
    const std::string id = "sim-" + std::to_string(state_.next_id.fetch_add(1) + 1);
    std::unique_ptr<AnswerWire> wire;
    if (api == Api::responses) {
      wire = std::make_unique<ResponsesWire>(req, plan, id, unix_now());
    } else {
      wire = std::make_unique<CompletionsWire>(req, plan, id, unix_now());
    }
    if (req.stream) co_return co_await stream_wire(*wire, plan, keep_alive);
    const auto generation = per_token(plan) * static_cast<int64_t>(plan.tokens.size());
    const bool generated = co_await pause_until(Clock::now() + generation);
    if (!generated) co_return aborted();
    co_return co_await send(bhttp::status::ok, "application/json", wire->body(), keep_alive);
  }

  // A stream in any API's events, paced like a chat stream (the time to first token is over).
  net::awaitable<After> stream_wire(const AnswerWire& wire, const ReplyPlan& plan,
                                    bool keep_alive) {
    GaugeHold active(state_.active_streams);
    pending_.assign(
        "HTTP/1.1 200 OK\r\nServer: llm-sim\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n");
    pending_ += keep_alive ? "\r\n" : "Connection: close\r\n\r\n";
    for (const auto& e : wire.opening()) emit(e);
    const size_t n = plan.outcome == Outcome::empty ? 0 : plan.tokens.size();
    const size_t cut_at = plan.cut_after ? std::min<size_t>(*plan.cut_after, n) : SIZE_MAX;
    const size_t stall_at = plan.stall_after ? std::min<size_t>(*plan.stall_after, n) : SIZE_MAX;
    const auto first_token_at = Clock::now();
    const auto gap = per_token(plan);
    size_t i = 0;
    for (; i < n && i != cut_at && i != stall_at; ++i) {
      const bool alive = co_await flush_then_pause(first_token_at + gap * static_cast<int64_t>(i));
      if (!alive) co_return aborted();
      emit(wire.token(i));
    }
    if (i == cut_at) {
      co_await flush();
      co_return After::close;
    }
    if (i == stall_at) {
      const bool flushed = co_await flush();
      if (flushed) co_await stall();
      co_return After::close;
    }
    for (const auto& e : wire.closing()) emit(e);
    pending_ += "0\r\n\r\n";
    const bool flushed = co_await flush();
    if (!flushed) co_return aborted();
    co_return After::keep_open;
  }

  // Frames one SSE event as an HTTP chunk. Events due at the same instant share one write;
  // anything pending is written before any wait, so no event is ever held back.
  void emit(std::string_view event) {
    char size[16];
    auto [end, ec] = std::to_chars(size, size + sizeof size, event.size(), 16);
    pending_.append(size, end);
    pending_ += "\r\n";
    pending_ += event;
    pending_ += "\r\n";
  }

  net::awaitable<bool> flush() {
    if (pending_.empty()) co_return true;
    auto [ec, n] = co_await net::async_write(socket_, net::buffer(pending_), kAsTuple);
    pending_.clear();
    co_return !ec;
  }

  // Writes what is pending before waiting, so no event is held back by a pause. (Shaped
  // without an early `co_return true`: that form spun forever under GCC 12.)
  net::awaitable<bool> flush_then_pause(Clock::time_point deadline) {
    bool alive = true;
    if (deadline > Clock::now()) {
      alive = co_await flush();
      if (alive) alive = co_await pause_until(deadline);
    }
    co_return alive;
  }

  static std::chrono::steady_clock::duration per_token(const ReplyPlan& plan) {
    if (plan.tokens_per_s <= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / plan.tokens_per_s));
  }

  After aborted() {
    state_.aborted_streams.fetch_add(1, std::memory_order_relaxed);
    return After::close;
  }

  net::awaitable<After> send(bhttp::status status, std::string_view content_type, std::string body,
                             bool keep_alive, const HeaderList& extra = {}) {
    bhttp::response<bhttp::string_body> response{status, 11};
    response.set(bhttp::field::server, "llm-sim");
    for (const auto& [name, value] : extra) response.set(name, value);
    response.set(bhttp::field::content_type, content_type);
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(socket_, response, kAsTuple);
    co_return ec ? After::close : After::keep_open;
  }

  // Waits until `deadline`; false when the peer went away first (we stop working for nobody).
  net::awaitable<bool> pause_until(Clock::time_point deadline) {
    if (deadline <= Clock::now()) co_return true;
    net::steady_timer timer(socket_.get_executor());
    timer.expires_at(deadline);
    while (watch_peer_) {
      auto which = co_await (timer.async_wait(kAsTuple) ||
                             socket_.async_wait(tcp::socket::wait_read, kAsTuple));
      if (which.index() == 0) co_return true;
      if (auto [ec] = std::get<1>(which); ec) co_return false;
      switch (peek_peer()) {
        case Peer::gone:
          co_return false;
        case Peer::sent_data:  // a pipelined request: cannot watch for EOF without consuming it
          watch_peer_ = false;
          break;
        case Peer::quiet:  // a stale readiness event from before our last read
          break;
      }
    }
    co_await timer.async_wait(kAsTuple);
    co_return true;
  }

  enum class Peer { quiet, sent_data, gone };
  Peer peek_peer() {
    char byte = 0;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Peer::sent_data;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Peer::quiet;
    return Peer::gone;
  }

  // Never answers; returns once the peer has gone (counted as an abort).
  net::awaitable<void> stall() {
    for (;;) {
      const bool elapsed = co_await pause_until(Clock::now() + kStallRecheck);
      if (!elapsed) break;
    }
    state_.aborted_streams.fetch_add(1, std::memory_order_relaxed);
  }

  tcp::socket socket_;
  SimState& state_;
  boost::beast::flat_buffer buffer_;
  bool watch_peer_ = true;
  std::string pending_;  // stream bytes produced but not yet written
};

}  // namespace

net::awaitable<void> serve_connection(tcp::socket socket, SimState& state) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // SSE events are small: no Nagle delay
  Connection connection(std::move(socket), state);
  co_await connection.run();
}

}  // namespace gw::sim
