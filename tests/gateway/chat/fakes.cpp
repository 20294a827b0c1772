#include "fakes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace gw::chat::testing {

CallRecord& FakeStream::record() {
  return models_.calls[index_];
}

net::awaitable<upstream::CallError> FakeStream::start(http::OutgoingBody body, bool stream,
                                                      std::string_view, std::string_view) {
  record().body = body.text();
  record().stream = stream;
  leg_.sent = leg_.headers = Clock::now();
  leg_.status = script_.status;
  co_return script_.start_error;
}

net::awaitable<std::pair<upstream::CallError, std::string_view>> FakeStream::read_some() {
  if (next_ < script_.pieces.size()) {
    ++record().pieces_read;
    const std::string& piece = script_.pieces[next_++];
    co_return std::pair{upstream::CallError::none, std::string_view(piece)};
  }
  if (script_.stall) {
    // As upstream::Call: no byte comes, and the wait ends at the request's deadline.
    net::steady_timer until(co_await net::this_coro::executor, record().deadline);
    co_await until.async_wait(net::as_tuple(net::use_awaitable));
    co_return std::pair{upstream::CallError::deadline, std::string_view{}};
  }
  co_return std::pair{script_.then, std::string_view{}};
}

net::awaitable<upstream::CallError> FakeStream::read_all(std::string& out, std::size_t limit) {
  for (;;) {
    auto [err, piece] = co_await read_some();
    if (err != upstream::CallError::none) co_return err;
    if (piece.empty()) co_return upstream::CallError::none;
    if (out.size() + piece.size() > limit) co_return upstream::CallError::too_large;
    out.append(piece);
  }
}

void FakeStream::finish() {
  record().finished = true;
}

std::string content_event(std::string_view text) {
  nlohmann::json chunk = {
      {"id", "c1"},
      {"object", "chat.completion.chunk"},
      {"model", "phi"},
      {"choices", {{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}}}};
  return "data: " + chunk.dump() + "\n\n";
}

std::string finish_event(std::string_view reason) {
  nlohmann::json chunk = {
      {"id", "c1"},
      {"object", "chat.completion.chunk"},
      {"model", "phi"},
      {"choices",
       {{{"index", 0}, {"delta", nlohmann::json::object()}, {"finish_reason", reason}}}}};
  return "data: " + chunk.dump() + "\n\n";
}

std::string whole_answer(std::string_view text, std::string_view model) {
  nlohmann::json answer = {
      {"id", "c1"},
      {"object", "chat.completion"},
      {"model", model},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", text}}},
         {"finish_reason", "stop"}}}},
      {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 7}, {"total_tokens", 12}}}};
  return answer.dump();
}

ModelScript streamed_tokens(int tokens) {
  ModelScript s;
  for (int i = 0; i < tokens; ++i) s.pieces.push_back(content_event("w" + std::to_string(i) + " "));
  s.pieces.push_back(finish_event());
  s.pieces.emplace_back(kDoneEvent);
  return s;
}

ServingSnapshot serving_with(const std::string& routing_yaml, std::uint32_t request_timeout_ms) {
  const std::string yaml = "server:\n  listen: \"127.0.0.1:0\"\n  request_timeout_ms: " +
                           std::to_string(request_timeout_ms) +
                           "\n"
                           "models:\n"
                           "  phi:\n    upstream: \"http://127.0.0.1:9/v1\"\n"
                           "  big:\n    upstream: \"http://127.0.0.1:9/v1\"\n"
                           "routing:\n  model_alias: auto\n  draft: phi\n  escalate: big\n" +
                           routing_yaml;
  auto loaded = config::load_string(yaml, "test.yaml");
  if (!loaded.config) {
    std::string why;
    for (const auto& p : loaded.problems) why += p.str() + "\n";
    throw std::invalid_argument(why);
  }
  return std::make_shared<const ServingConfig>(loaded.config, nullptr);
}

}  // namespace gw::chat::testing
