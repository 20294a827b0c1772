#pragma once
// Scripted fakes for both sides of the routing seam: FakeModels (upstream/model_stream.hpp) plays
// back what each model call answers, piece by piece, and FakeClient
// (exchange/client_response.hpp) records what the client got. The flows run on a real
// io_context, in-process: every wait is real, only the sockets are not.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gateway/chat/flow_context.hpp"
#include "gateway/config/load.hpp"
#include "gateway/exchange/client_response.hpp"
#include "gateway/upstream/model_stream.hpp"

namespace gw::chat::testing {

// What one call to a model does.
struct ModelScript {
  upstream::CallError start_error = upstream::CallError::none;
  unsigned status = 200;
  bool event_stream = true;
  std::vector<std::string> pieces;  // read_some() returns these in order
  // After the pieces: the end of the body (none), an error, or a stall until the deadline the
  // call was opened with (then CallError::deadline, as upstream::Call reports it).
  upstream::CallError then = upstream::CallError::none;
  bool stall = false;
};

// What one call was asked, and how far it was read.
struct CallRecord {
  std::string model;
  std::string body;
  bool stream = false;
  Clock::time_point deadline;
  std::size_t pieces_read = 0;
  bool finished = false;
};

class FakeModels;

class FakeStream final : public upstream::ModelStream {
 public:
  FakeStream(FakeModels& models, std::size_t index, ModelScript script, UpstreamLeg& leg)
      : models_(models), index_(index), script_(std::move(script)), leg_(leg) {}
  ~FakeStream() override { finish(); }  // as upstream::Call: a call dropped is a call closed
  FakeStream(const FakeStream&) = delete;
  FakeStream& operator=(const FakeStream&) = delete;

  net::awaitable<upstream::CallError> start(http::OutgoingBody body, bool stream,
                                            std::string_view request_id,
                                            std::string_view path) override;
  unsigned status() const override { return script_.status; }
  bool event_stream() const override { return script_.event_stream; }
  std::optional<std::uint64_t> content_length() const override { return std::nullopt; }
  void for_each_header(
      const std::function<void(std::string_view, std::string_view)>& visit) const override {
    visit("content-type", script_.event_stream ? "text/event-stream" : "application/json");
  }
  upstream::ConnectError connect_error() const override { return upstream::ConnectError::none; }
  const std::string& connect_detail() const override { return detail_; }
  net::awaitable<std::pair<upstream::CallError, std::string_view>> read_some() override;
  net::awaitable<upstream::CallError> read_all(std::string& out, std::size_t limit) override;
  void finish() override;

 private:
  CallRecord& record();

  FakeModels& models_;
  std::size_t index_;
  ModelScript script_;
  UpstreamLeg& leg_;
  std::size_t next_ = 0;
  std::string detail_;
};

class FakeModels final : public upstream::ModelStreams {
 public:
  // The calls to `model`, in the order they will be made.
  void script(const std::string& model, ModelScript s) { scripts_[model].push_back(std::move(s)); }

  std::unique_ptr<upstream::ModelStream> open(const config::Model& model, UpstreamLeg& leg,
                                              Clock::time_point deadline) override {
    calls.push_back(CallRecord{model.name, {}, false, deadline, 0, false});
    auto& queue = scripts_[model.name];
    ModelScript s;
    if (queue.empty()) {
      s.start_error = upstream::CallError::connect;  // an unscripted call fails, visibly
    } else {
      s = std::move(queue.front());
      queue.pop_front();
    }
    return std::make_unique<FakeStream>(*this, calls.size() - 1, std::move(s), leg);
  }

  // Content pieces read from every call so far: when the client's head went out, this says how
  // much of the draft the hold window had read.
  std::size_t pieces_read() const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.pieces_read;
    return n;
  }

  std::vector<CallRecord> calls;

 private:
  std::map<std::string, std::deque<ModelScript>> scripts_;
};

// What the client got, in order.
struct ClientEvent {
  enum Kind { reply, reply_error, begin_stream, chunk, end_stream, end_with_error } kind;
  unsigned status = 0;
  std::string bytes;            // a reply's body, a chunk, an error's body
  std::size_t model_reads = 0;  // FakeModels::pieces_read() when it happened
};

class FakeClient final : public ClientResponse {
 public:
  explicit FakeClient(const FakeModels& models) : models_(models) {}

  net::awaitable<bool> reply(unsigned status, std::string body, std::string_view) override {
    record(ClientEvent::reply, status, std::move(body));
    complete_ = true;
    co_return true;
  }
  net::awaitable<bool> reply_error(http::OpenAiError err) override {
    record(ClientEvent::reply_error, err.status, err.body());
    complete_ = true;
    co_return true;
  }
  net::awaitable<bool> begin_stream(unsigned status, std::string_view) override {
    record(ClientEvent::begin_stream, status, {});
    streaming_ = true;
    co_return true;
  }
  net::awaitable<bool> write_chunk(std::string_view bytes) override {
    if (!bytes.empty()) record(ClientEvent::chunk, 0, std::string(bytes));
    co_return !gone_;
  }
  net::awaitable<bool> end_stream() override {
    record(ClientEvent::end_stream, 0, {});
    streaming_ = false;
    complete_ = true;
    co_return true;
  }
  net::awaitable<bool> end_stream_with_error(http::OpenAiError err) override {
    record(ClientEvent::end_with_error, err.status, err.body());
    streaming_ = false;
    complete_ = true;
    co_return true;
  }
  bool head_sent() const override { return status_ != 0; }
  unsigned sent_status() const override { return status_; }
  bool complete() const override { return complete_; }
  bool stream_open() const override { return streaming_; }

  // Every chunk written, joined: the stream's body as the client read it.
  std::string streamed() const {
    std::string s;
    for (const auto& e : events) {
      if (e.kind == ClientEvent::chunk) s += e.bytes;
    }
    return s;
  }
  const ClientEvent* first(ClientEvent::Kind k) const {
    for (const auto& e : events) {
      if (e.kind == k) return &e;
    }
    return nullptr;
  }

  std::vector<ClientEvent> events;
  bool gone_ = false;  // the client stops reading: writes fail

 private:
  void record(ClientEvent::Kind k, unsigned status, std::string bytes) {
    if (status_ == 0 && (k == ClientEvent::reply || k == ClientEvent::reply_error ||
                         k == ClientEvent::begin_stream)) {
      status_ = status;
    }
    events.push_back(ClientEvent{k, status, std::move(bytes), models_.pieces_read()});
  }

  const FakeModels& models_;
  unsigned status_ = 0;
  bool complete_ = false;
  bool streaming_ = false;
};

// ---- scripted answers in the OpenAI format ------------------------------------------------------

// One streamed chunk carrying `text` (one token).
std::string content_event(std::string_view text);
std::string finish_event(std::string_view reason = "stop");
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";
// A whole chat completion answering `text`.
std::string whole_answer(std::string_view text, std::string_view model = "phi");

// A streamed draft of `tokens` one-token events "w0 ", "w1 ", ... then finish and [DONE], each
// in its own read.
ModelScript streamed_tokens(int tokens);

// A serving config: models "phi" (draft) and "big" (escalate) and the given `routing:` body
// (YAML, indented by 2).
ServingSnapshot serving_with(const std::string& routing_yaml,
                             std::uint32_t request_timeout_ms = 5000);

}  // namespace gw::chat::testing
