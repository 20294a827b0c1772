#include "gateway/chat/hybrid_flow.hpp"

#include "gateway/completion/completion.hpp"
#include "gateway/chat/forward.hpp"
#include "gateway/completion/judged_draft.hpp"
#include "gateway/chat/stream_relay.hpp"
#include "gateway/completion/upstream_body.hpp"
#include "gateway/completion/whole_completion.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/log/decision_log.hpp"
#include "gateway/shadow/shadow.hpp"
#include "policies/before_draft.hpp"
#include "policies/judge.hpp"
#include "policies/prompt.hpp"

namespace gw::chat {

namespace {

// Bounded: a non-streamed draft or answer larger than this is a failed call.
constexpr std::size_t kMaxCompletionBytes = 64 * 1024 * 1024;

using policies::Reason;

// One routed request in flight: the snapshot's routing, the parsed request, the decisions.
struct Flow {
  Exchange& ex;
  ChatRequest& request;
  const ServingConfig& sc;
  const config::Routing& routing;
  bool want_logprobs;  // the judge needs the draft's logprobs
  // first_margin_under needs the first token's top-2 alternatives: asked for, then cut back to
  // what the client asked for.
  std::uint32_t want_top_logprobs = sc.rules.after_draft().needs_top_logprobs() ? 2 : 0;
  Clock::time_point deadline;  // server.request_timeout_ms: every upstream call ends by then
  // The tools and response_format the request sets: a draft is judged as what it is.
  policies::RequestedOutput requested;

  Flow(Exchange& e, ChatRequest& r)
      : ex(e),
        request(r),
        sc(*e.serving),
        routing(e.cfg().routing),
        want_logprobs(e.serving->rules.after_draft().needs_logprobs()),
        deadline(request_deadline(e)),
        requested(policies::requested_output(r.json)) {}

  // A failed call is retried on the other model only while the request has time left.
  bool may_fall_back() const { return routing.fallback && Clock::now() < deadline; }

  void decide(Route route, const config::Model& answering, Reason reason) {
    ex.trace.route = route;
    ex.trace.answered = &answering;
    ex.trace.reason = reason == Reason::none ? std::string_view{} : policies::to_string(reason);
  }

  policies::Verdict judge(const DraftText& d, bool complete) const {
    const JudgedDraft judged(d, complete, &requested);
    // routing.decision_log: every signal the rules read, not only the one that fires.
    if (ex.trace.decision.routed) {
      note_judged_draft(ex.trace.decision, sc.rules, d.text, d.finish_reason, d.logprobs,
                        d.first_margin, d.tool_calls.calls.size(), complete,
                        !ex.trace.decision.prompt_text.empty());
      note_validity(ex.trace.decision, judged.draft);
    }
    return policies::judge(sc.rules, judged.draft);
  }
};

// A whole (non-streamed) completion from one model, as it came, and what the judge and the
// metrics read from it; nullopt after a failure, with the failure's error in `error`. Never a
// JSON tree of the body: memory per answer is bounded by `max_bytes`, whatever its shape.
struct WholeAnswer {
  std::string body;
  DraftText draft;
  Usage usage;
};

net::awaitable<std::optional<WholeAnswer>> call_whole(Flow& f, const config::Model& m,
                                                      std::string body,
                                                      std::optional<http::OpenAiError>& error,
                                                      std::size_t max_bytes = kMaxCompletionBytes) {
  UpstreamLeg& leg = f.ex.trace.new_leg(m);
  leg.prepared = Clock::now();
  upstream::Call call(f.ex.thread.pool, m, leg, f.deadline);
  auto err = co_await call.start(std::move(body), false, f.ex.trace.request_id);
  std::string answer;
  if (err == upstream::CallError::none) {
    if (call.status() < 200 || call.status() > 299) {
      error = co_await upstream_status_error(call, m, f.ex.serving->secrets);
      co_return std::nullopt;
    }
    err = co_await call.read_all(answer, max_bytes);
  }
  if (err != upstream::CallError::none) {
    error = call_failure(err, call, m);
    co_return std::nullopt;
  }
  leg.first_token = leg.done = Clock::now();
  auto facts = read_completion_facts(answer);
  auto draft = facts ? std::optional<DraftText>(std::move(facts->draft)) : std::nullopt;
  if (!draft || !draft->answered()) {
    // Garbage, no choices, or neither text nor a tool call: a failed call, never a crash.
    leg.error = "bad_response";
    error = http::make_error(502, "upstream " + m.name + " returned no usable completion",
                             "upstream_error");
    co_return std::nullopt;
  }
  WholeAnswer out{std::move(answer), std::move(*draft), facts->usage};
  const Usage& u = out.usage;
  leg.usage_reported = u.present;
  leg.prompt_tokens = u.present ? u.prompt_tokens : 0;
  std::uint64_t answer_chars = out.draft.text.size();  // a tool call's name and arguments too
  for (const auto& c : out.draft.tool_calls.calls) {
    answer_chars += c.name.size() + c.arguments.size();
  }
  leg.completion_tokens = u.present ? u.completion_tokens : estimate_tokens(answer_chars);
  co_return out;
}

// Sends a parsed answer to the client as the model that produced it, usage summed over legs.
net::awaitable<void> reply_whole(Flow& f, WholeAnswer& a, const config::Model& m,
                                 const Usage& earlier_legs, bool strip,
                                 int keep_top_logprobs = -1) {
  CompletionEdits edits;
  edits.model = m.name;
  edits.strip_logprobs = strip;
  if (keep_top_logprobs >= 0) {  // the client asked for fewer alternatives than the judge
    edits.keep_top_logprobs = static_cast<std::uint32_t>(keep_top_logprobs);
  }
  if (earlier_legs.prompt_tokens || earlier_legs.completion_tokens) {
    edits.usage = Usage{a.usage.prompt_tokens + earlier_legs.prompt_tokens,
                        a.usage.completion_tokens + earlier_legs.completion_tokens, true};
  }
  auto body = rewrite_completion(a.body, edits);
  a.body = std::string();  // the answer is no longer needed: at most one copy at a time
  if (!body) {
    // read_completion_facts() accepted it, so this does not happen.
    co_await f.ex.reply_error(http::make_error(
        502, "upstream " + m.name + " returned no usable completion", "upstream_error"));
    co_return;
  }
  co_await f.ex.reply(200, std::move(*body), "application/json");
}

// The tokens of every call before the last, so the usage a client sees covers the whole request.
Usage earlier_legs_usage(const RequestTrace& t) {
  Usage u;
  for (int i = 0; i + 1 < t.leg_count; ++i) {
    const UpstreamLeg& leg = t.legs[i];
    if (!leg.usage_reported && leg.first_token == Clock::time_point{}) continue;
    LegTokens tokens = tokens_of(leg, t.prompt_chars);
    u.prompt_tokens += tokens.prompt;
    u.completion_tokens += tokens.completion;
    u.present = true;
  }
  return u;
}

const config::Model& other(const Flow& f, const config::Model& m) {
  return &m == f.sc.draft ? *f.sc.escalate : *f.sc.draft;
}

// ---- non-streamed ----------------------------------------------------------------------------

// Straight to one model (before_draft fired, or a failed draft falls back): on failure, one
// retry on the other model when routing.fallback allows.
net::awaitable<void> whole_on(Flow& f, const config::Model& m, Route route, Reason reason) {
  std::optional<http::OpenAiError> error;
  auto answer = co_await call_whole(f, m, routed_body(f.request, m, false, false), error);
  if (!answer && f.may_fall_back() && route != Route::fallback) {
    const config::Model& alt = other(f, m);
    std::optional<http::OpenAiError> alt_error;
    auto alt_answer =
        co_await call_whole(f, alt, routed_body(f.request, alt, false, false), alt_error);
    if (alt_answer) {
      f.decide(Route::fallback, alt, Reason::upstream_error);
      co_await reply_whole(f, *alt_answer, alt, {}, false);
      co_return;
    }
  }
  if (!answer) {
    f.decide(route, m, reason);
    co_await f.ex.reply_error(*error);
    co_return;
  }
  f.decide(route, m, reason);
  co_await reply_whole(f, *answer, m, {}, false);
  // Only hybrid_flow's before_draft branch calls this with Route::escalated.
  if (route == Route::escalated) shadow::after_pre_draft_escalation(f.ex, f.request, answer->draft);
}

net::awaitable<void> hybrid_whole(Flow& f) {
  const config::Model& draft_model = *f.sc.draft;
  const config::Model& large = *f.sc.escalate;
  std::optional<http::OpenAiError> error;
  auto draft = co_await call_whole(
      f, draft_model,
      routed_body(f.request, draft_model, false, f.want_logprobs, nullptr, f.want_top_logprobs),
      error, f.routing.draft_max_bytes);
  if (!draft) {
    if (!f.may_fall_back()) {
      f.decide(Route::draft, draft_model, Reason::none);
      co_await f.ex.reply_error(*error);
      co_return;
    }
    co_await whole_on(f, large, Route::fallback, Reason::upstream_error);
    co_return;
  }
  auto verdict = f.judge(draft->draft, true);
  bool strip = f.want_logprobs && !f.request.logprobs;
  const int keep_top =
      routed_edits(f.request, draft_model, f.want_logprobs, f.want_top_logprobs).keep_top_logprobs;
  if (!verdict.escalate) {
    f.decide(Route::draft, draft_model, Reason::none);
    co_await reply_whole(f, *draft, draft_model, {}, strip, keep_top);
    shadow::after_accepted_draft(f.ex, f.request, draft->draft);  // the answer is out: measure
    co_return;
  }

  const auto mode =
      policies::escalation_mode(f.routing.on_escalate, !draft->draft.tool_calls.empty());
  auto messages = policies::escalation_messages(mode, f.request.json["messages"], draft->draft.text,
                                                f.routing.refine_prompt);
  auto answer =
      co_await call_whole(f, large, routed_body(f.request, large, false, false, &messages), error);
  if (!answer) {
    if (f.routing.fallback) {  // the draft is the best answer there is
      f.decide(Route::fallback, draft_model, Reason::upstream_error);
      co_await reply_whole(f, *draft, draft_model, {}, strip, keep_top);
    } else {
      f.decide(Route::escalated, large, verdict.reason);
      co_await f.ex.reply_error(*error);
    }
    co_return;
  }
  f.decide(Route::escalated, large, verdict.reason);
  co_await reply_whole(f, *answer, large, earlier_legs_usage(f.ex.trace), false);
}

// ---- streamed --------------------------------------------------------------------------------

// Opens a streamed call; false (and `error`) when it failed before any byte could be relayed.
net::awaitable<bool> open_stream(Flow& f, upstream::Call& call, const config::Model& m,
                                 std::string body, std::optional<http::OpenAiError>& error) {
  auto err = co_await call.start(std::move(body), true, f.ex.trace.request_id);
  if (err != upstream::CallError::none) {
    error = call_failure(err, call, m);
    co_return false;
  }
  if (call.status() < 200 || call.status() > 299) {
    error = co_await upstream_status_error(call, m, f.ex.serving->secrets);
    co_return false;
  }
  if (!call.event_stream()) {
    error = http::make_error(502, "upstream " + m.name + " did not stream (no text/event-stream)",
                             "upstream_error");
    co_return false;
  }
  co_return true;
}

// Streams one model's answer to the client (before_draft fired, or after an escalation or a
// failed draft); on failure before the first byte, one retry on the other model.
net::awaitable<void> stream_on(Flow& f, const config::Model& m, Route route, Reason reason,
                               const nlohmann::json* messages) {
  // A before_draft escalation (no leg yet) sampled for shadowing keeps the text it relays.
  const bool pre_draft = route == Route::escalated && f.ex.trace.leg_count == 0 && !messages &&
                         shadow::wants_pre_draft(f.ex);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const config::Model& target = attempt == 0 ? m : other(f, m);
    UpstreamLeg& leg = f.ex.trace.new_leg(target);
    leg.prepared = Clock::now();
    upstream::Call call(f.ex.thread.pool, target, leg, f.deadline);
    std::optional<http::OpenAiError> error;
    const bool refined = attempt == 0 && messages;
    bool opened = co_await open_stream(
        f, call, target, routed_body(f.request, target, true, false, refined ? messages : nullptr),
        error);
    if (opened) {
      if (attempt == 0) {
        f.decide(route, target, reason);
      } else {
        f.decide(Route::fallback, target, Reason::upstream_error);
      }
      bool started = co_await f.ex.begin_stream(200, "text/event-stream");
      if (!started) co_return;
      http::SseParser parser;
      StreamEdits edits = routed_edits(f.request, target, false);
      if (!edits.drop_usage) edits.add_usage = earlier_legs_usage(f.ex.trace);
      DraftText relayed_answer;
      const bool observe = pre_draft && attempt == 0;
      bool relayed = co_await relay_events(f.ex, call, leg, target, parser, edits,
                                           observe ? &relayed_answer : nullptr);
      if (relayed && observe) shadow::after_pre_draft_escalation(f.ex, f.request, relayed_answer);
      co_return;
    }
    if (attempt == 1 || !f.may_fall_back() || route == Route::fallback) {
      f.decide(route, target, reason);
      co_await f.ex.reply_error(*error);
      co_return;
    }
  }
}

// What the hold window saw of the draft stream.
struct Held {
  DraftText draft;
  std::string out;  // the events as the client would get them, not yet sent
  bool complete = false;
  bool broken = false;   // not a parseable chat stream
  bool bounded = false;  // routing.stream.hold_max_bytes or hold_max_ms was reached
  const policies::RequestedOutput* requested = nullptr;  // what the request asked for
};

// Reads draft events into `held` until `hold_tokens` content tokens, the end of the draft, or
// the point where no rule could still fire on more text (then holding longer only adds delay);
// or until the held bytes or the time held reach their bound (a draft that streams comments or
// content-free deltas would otherwise be held, and buffered, until the request deadline). Time
// is checked as bytes arrive: a draft that sends nothing at all is bounded by its timeout_ms.
net::awaitable<upstream::CallError> hold_window(const policies::Rules& rules,
                                                const config::Routing& routing,
                                                upstream::Call& call, UpstreamLeg& leg,
                                                http::SseParser& parser, Held& held,
                                                const StreamEdits& edits) {
  const std::uint32_t hold_tokens = routing.hold_tokens;
  const auto hold_until = Clock::now() + std::chrono::milliseconds(routing.hold_max_ms);
  for (;;) {
    while (auto ev = parser.next()) {
      if (ev->has_data && ev->data == "[DONE]") {
        held.complete = true;
      } else if (ev->has_data) {
        auto chunk = read_chunk(ev->data);
        if (!chunk) {
          held.broken = true;
          co_return upstream::CallError::none;
        }
        accumulate(held.draft, *chunk);
      }
      append_event(held.out, *ev, edits, leg);
      if (held.complete || hold_tokens == 0) co_return upstream::CallError::none;  // 0: no hold
      // Tool-call deltas are progress too; a tool call is held until its arguments are complete,
      // and structured output that invalid_json judges until it is whole.
      const JudgedDraft prefix(held.draft, false, held.requested);
      if (policies::hold_past_window(rules, prefix.draft)) continue;
      if (held.draft.tokens >= hold_tokens) co_return upstream::CallError::none;
      if (held.draft.tokens > 0 && !policies::can_still_escalate_later(rules, prefix.draft)) {
        co_return upstream::CallError::none;
      }
    }
    if (parser.overflowed()) {
      held.broken = true;
      co_return upstream::CallError::none;
    }
    // Counted with the incomplete event the parser holds: both are buffered for this request.
    if (held.out.size() + parser.pending().size() > routing.hold_max_bytes ||
        Clock::now() >= hold_until) {
      held.bounded = true;
      co_return upstream::CallError::none;
    }
    auto [err, piece] = co_await call.read_some();
    if (err != upstream::CallError::none) co_return err;
    if (piece.empty()) {
      held.complete = true;
      co_return upstream::CallError::none;
    }
    parser.feed(piece);
  }
}

net::awaitable<void> hybrid_stream(Flow& f) {
  const config::Model& draft_model = *f.sc.draft;
  const config::Model& large = *f.sc.escalate;
  UpstreamLeg& leg = f.ex.trace.new_leg(draft_model);
  leg.prepared = Clock::now();
  upstream::Call call(f.ex.thread.pool, draft_model, leg, f.deadline);
  std::optional<http::OpenAiError> error;
  auto fail_draft = [&]() -> net::awaitable<void> {
    if (!f.may_fall_back()) {
      f.decide(Route::draft, draft_model, Reason::none);
      co_await f.ex.reply_error(error.value_or(http::make_error(
          502, "upstream " + draft_model.name + " sent an unusable stream", "upstream_error")));
      co_return;
    }
    call.finish();
    co_await stream_on(f, large, Route::fallback, Reason::upstream_error, nullptr);
  };
  bool opened = co_await open_stream(
      f, call, draft_model,
      routed_body(f.request, draft_model, true, f.want_logprobs, nullptr, f.want_top_logprobs),
      error);
  if (!opened) {
    co_await fail_draft();
    co_return;
  }

  // Hold the first hold_tokens draft tokens: nothing reaches the client before the verdict,
  // so the headers that announce the route are true.
  const StreamEdits edits =
      routed_edits(f.request, draft_model, f.want_logprobs, f.want_top_logprobs);
  http::SseParser parser;
  Held held;
  held.requested = &f.requested;
  auto err = co_await hold_window(f.sc.rules, f.routing, call, leg, parser, held, edits);
  // A draft with no text when it ended, or when the hold reached its bound, failed: the large
  // model answers (a bound reached with some text is judged on that prefix like any other).
  if (err != upstream::CallError::none || held.broken ||
      ((held.complete || held.bounded) && !held.draft.answered())) {
    if (err != upstream::CallError::none) {
      error = call_failure(err, call, draft_model);
    } else {
      leg.error = held.broken ? "bad_response" : held.bounded ? "hold_bound" : "empty_draft";
    }
    co_await fail_draft();
    co_return;
  }
  auto verdict = f.judge(held.draft, held.complete);
  if (!verdict.escalate) {
    f.decide(Route::draft, draft_model, Reason::none);
    bool started = co_await f.ex.begin_stream(200, "text/event-stream");
    if (!started) co_return;
    bool flushed = co_await f.ex.write_chunk(held.out);
    if (!flushed) co_return;
    if (held.complete) {
      leg.done = Clock::now();
      co_await f.ex.end_stream();
      shadow::after_accepted_draft(f.ex, f.request, held.draft);
      co_return;
    }
    // Committed: later signals cannot change the route, but they are counted so users can tune.
    DraftText whole = std::move(held.draft);
    bool relayed = co_await relay_events(f.ex, call, leg, draft_model, parser, edits, &whole);
    if (relayed) {
      auto late = f.judge(whole, true);
      if (late.escalate) f.ex.trace.would_escalate = policies::to_string(late.reason);
      shadow::after_accepted_draft(f.ex, f.request, whole);
    }
    co_return;
  }

  // Abandon the draft. Refine needs all of it, so read the rest first (never sent); replace
  // closes the draft request at once so the small model stops generating.
  const auto mode =
      policies::escalation_mode(f.routing.on_escalate, !held.draft.tool_calls.empty());
  DraftText full = std::move(held.draft);
  if (mode == config::OnEscalate::refine && !held.complete) {
    std::string ignored;
    StreamEdits none;
    std::uint64_t read_bytes = 0;  // event bytes: tool-call deltas and logprobs are kept too
    for (;;) {
      while (auto ev = parser.next()) {
        if (ev->has_data && ev->data != "[DONE]") {
          read_bytes += ev->data.size();
          if (auto chunk = read_chunk(ev->data)) accumulate(full, *chunk);
        }
        append_event(ignored, *ev, none, leg);
        ignored.clear();
      }
      // Bounded like a non-streamed draft: past draft_max_bytes the rest is not read.
      if (parser.overflowed() || full.text.size() > f.routing.draft_max_bytes ||
          read_bytes > f.routing.draft_max_bytes) {
        break;
      }
      auto [rerr, piece] = co_await call.read_some();
      if (rerr != upstream::CallError::none || piece.empty()) break;
      parser.feed(piece);
    }
  }
  leg.done = Clock::now();
  call.finish();
  if (mode == config::OnEscalate::refine) {
    auto messages = policies::escalation_messages(
        config::OnEscalate::refine, f.request.json["messages"], full.text, f.routing.refine_prompt);
    co_await stream_on(f, large, Route::escalated, verdict.reason, &messages);
  } else {
    co_await stream_on(f, large, Route::escalated, verdict.reason, nullptr);
  }
}

}  // namespace

net::awaitable<void> hybrid_flow(Exchange& ex, ChatRequest& request) {
  Flow f(ex, request);
  auto stats = policies::prompt_stats(request.json["messages"]);
  ex.trace.prompt_chars = stats.chars;
  if (!ex.cfg().routing.decision_log.empty()) {
    ex.trace.decision.routed = true;
    ex.trace.decision.prompt_chars = stats.chars;
    if (ex.cfg().server.log_prompts || ex.thread.runtime.log_prompts) {
      ex.trace.decision.prompt_text = stats.text;
    }
  }
  auto before = policies::before_draft(f.sc.rules, stats);
  if (before.escalate) {
    if (request.stream) {
      co_await stream_on(f, *f.sc.escalate, Route::escalated, before.reason, nullptr);
    } else {
      co_await whole_on(f, *f.sc.escalate, Route::escalated, before.reason);
    }
    co_return;
  }
  if (request.stream) {
    co_await hybrid_stream(f);
  } else {
    co_await hybrid_whole(f);
  }
}

}  // namespace gw::chat
