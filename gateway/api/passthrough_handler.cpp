#include "gateway/api/passthrough_handler.hpp"

#include "gateway/api/passthrough_request.hpp"
#include "gateway/chat/forward.hpp"
#include "gateway/completion/upstream_body.hpp"
#include "gateway/metrics/inflight_gauge.hpp"

namespace gw::api {

std::string named_models(const config::Config& cfg) {
  std::string out;
  for (const auto& m : cfg.models) out.append(out.empty() ? "" : ", ").append(m.name);
  return out;
}

net::awaitable<void> handle_passthrough(Exchange& ex, const Endpoint& endpoint) {
  ex.completion = true;
  InflightGauge inflight(ex.deps.metrics);
  ex.trace.prompt_chars = ex.req.body().size();  // used only to estimate missing usage
  auto parsed = parse_passthrough_request(ex.req.body(), endpoint);
  if (auto* err = std::get_if<http::OpenAiError>(&parsed)) {
    co_await ex.reply_error(*err);
    co_return;
  }
  auto& request = std::get<chat::ChatRequest>(parsed);
  ex.trace.model_requested = request.model;
  ex.trace.stream = request.stream;
  if (ex.logs_prompts()) {
    // The text asked about when it is one string (`input`, `prompt`); items are not flattened.
    for (const char* key : {"input", "prompt"}) {
      auto it = request.json.find(key);
      if (it != request.json.end() && it->is_string()) {
        ex.trace.prompt =
            ex.serving->secrets.cut(it->get_ref<const std::string&>(), kMaxLoggedPromptBytes);
      }
    }
  }

  const auto& cfg = ex.cfg();
  if (request.model == cfg.routing.model_alias) {
    // Routing judges chat answers; this endpoint's answers are not judged (see README).
    co_await ex.reply_error(http::make_error(400,
                                             "model '" + request.model + "' " +
                                                 std::string(endpoint.auto_refusal) + ": " +
                                                 named_models(cfg),
                                             "model_not_supported_on_endpoint", "model"));
    co_return;
  }
  const config::Model* model = cfg.find_model(request.model);
  if (model == nullptr) {
    co_await ex.reply_error(http::model_not_found(request.model));
    co_return;
  }
  ex.trace.route = Route::direct;
  chat::StreamEdits edits;
  std::string body = chat::direct_body(request, *model, std::move(ex.req.body()), edits,
                                       endpoint.usage_on_request);
  const bool stream = request.stream;
  request.json = nullptr;  // a stream can last minutes: do not keep the parsed body that long
  co_await chat::forward(ex, *model, std::move(body), stream, edits, endpoint.upstream_path);
}

}  // namespace gw::api
