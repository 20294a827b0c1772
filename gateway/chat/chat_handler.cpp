#include "gateway/chat/chat_handler.hpp"

#include <memory>

#include "gateway/chat/forward.hpp"
#include "gateway/chat/hybrid_flow.hpp"
#include "gateway/completion/chat_request.hpp"
#include "gateway/completion/upstream_body.hpp"
#include "gateway/metrics/inflight_gauge.hpp"
#include "gateway/shadow/shadow.hpp"

namespace gw::chat {

namespace {

// The routing flow's hooks, answered by shadow escalation for this request.
class ShadowHooks final : public AnswerHooks {
 public:
  explicit ShadowHooks(Exchange& ex) : ex_(ex) {}
  bool wants_pre_draft() override { return shadow::wants_pre_draft(ex_); }
  void after_accepted_draft(const ChatRequest& request, const DraftText& draft) override {
    shadow::after_accepted_draft(ex_, request, draft);
  }
  void after_pre_draft_escalation(const ChatRequest& request, const DraftText& answer) override {
    shadow::after_pre_draft_escalation(ex_, request, answer);
  }

 private:
  Exchange& ex_;
};

// The routing flow: the parsed request is kept for it (routing reads messages and tools).
net::awaitable<void> answer_routed(Exchange& ex, ChatRequest& request) {
  // The client's bytes move into the request: every leg's body is spliced from them, and
  // ex.req.body() is not read again.
  keep_body(request, std::move(ex.req.body()));
  ShadowHooks shadow(ex);
  FlowContext cx = context_of(ex, &shadow);
  co_await until_client_leaves(ex, hybrid_flow(cx, request));
}

net::awaitable<void> reply_model_not_found(Exchange& ex, std::string_view model) {
  co_await ex.reply_error(http::model_not_found(model));
}

}  // namespace

net::awaitable<void> handle_chat(Exchange& ex) {
  ex.completion = true;
  InflightGauge inflight(ex.deps.metrics);
  ex.trace.prompt_chars = ex.req.body().size();  // refined by routing; used only to estimate
  // On the heap, not in this frame (which lives as long as the stream): a direct stream frees
  // it before relaying.
  auto parsed = std::make_unique<std::variant<ChatRequest, http::OpenAiError>>(
      parse_chat_request(ex.req.body(), ex.cfg().routing.model_alias));
  if (auto* err = std::get_if<http::OpenAiError>(parsed.get())) {
    co_await ex.reply_error(*err);
    co_return;
  }
  auto& request = std::get<ChatRequest>(*parsed);
  ex.trace.model_requested = request.model;
  ex.trace.stream = request.stream;
  if (ex.logs_prompts()) {
    ex.trace.prompt = ex.serving->secrets.cut(last_user_text(load_json(request, ex.req.body())),
                                              kMaxLoggedPromptBytes);
  }

  if (request.model == ex.cfg().routing.model_alias) {
    co_await answer_routed(ex, request);
    co_return;
  }
  const config::Model* model = ex.cfg().find_model(request.model);
  if (model == nullptr) {
    co_await reply_model_not_found(ex, request.model);
    co_return;
  }
  ex.trace.route = Route::direct;
  StreamEdits edits;
  std::string body = direct_body(request, *model, std::move(ex.req.body()), edits);
  const bool stream = request.stream;
  parsed.reset();  // a stream can last minutes: do not keep the parsed body that long
  co_await forward(ex, *model, std::move(body), stream, edits);
}

}  // namespace gw::chat
