#include "gateway/chat/hybrid_flow.hpp"

#include "gateway/chat/forward.hpp"
#include "gateway/chat/sse_reader.hpp"
#include "gateway/chat/stream_relay.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/completion/judged_draft.hpp"
#include "gateway/completion/upstream_body.hpp"
#include "gateway/completion/whole_completion.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/log/decision_log.hpp"
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
  FlowContext& cx;
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

  Flow(FlowContext& c, ChatRequest& r)
      : cx(c),
        request(r),
        sc(*c.serving),
        routing(c.cfg().routing),
        want_logprobs(c.serving->rules.after_draft().needs_logprobs()),
        deadline(c.deadline),
        requested(policies::requested_output(r.json)) {}

  // A failed call is retried on the other model only while the request has time left.
  bool may_fall_back() const { return routing.fallback && Clock::now() < deadline; }

  void decide(Route route, const config::Model& answering, Reason reason) {
    cx.trace.route = route;
    cx.trace.answered = &answering;
    cx.trace.reason = reason == Reason::none ? std::string_view{} : policies::to_string(reason);
  }

  // The hooks (shadow) run only once the client has the whole answer, and only a 200.
  void after_accepted_draft(const DraftText& draft) {
    if (cx.hooks && answered_ok()) cx.hooks->after_accepted_draft(request, draft);
  }
  void after_pre_draft_escalation(const DraftText& answer) {
    if (cx.hooks && answered_ok()) cx.hooks->after_pre_draft_escalation(request, answer);
  }
  bool answered_ok() const { return cx.client.complete() && cx.client.sent_status() == 200; }

  policies::Verdict judge(const DraftText& d, bool complete) const {
    const JudgedDraft judged(d, complete, &requested);
    // routing.decision_log: every signal the rules read, not only the one that fires.
    if (cx.trace.decision.routed) {
      note_judged_draft(cx.trace.decision, sc.rules, d.text, d.finish_reason, d.logprobs,
                        d.first_margin, d.tool_calls.calls.size(), complete,
                        !cx.trace.decision.prompt_text.empty());
      note_validity(cx.trace.decision, judged.draft);
    }
    return policies::judge(sc.rules, judged.draft);
  }
};

// The large model's messages when it refines `draft` (policies::escalation_messages). Not inline
// in the flows: the request's messages, read from its bytes for this, would sit in a coroutine
// frame for as long as the answer.
nlohmann::json refine_messages(const Flow& f, std::string_view draft) {
  nlohmann::json read;
  const nlohmann::json& messages = messages_of(f.request, read);
  // Read from the bytes for this call only: moved in, not copied.
  return policies::escalation_messages(
      config::OnEscalate::refine, &messages == &read ? std::move(read) : nlohmann::json(messages),
      draft, f.routing.refine_prompt);
}

// A whole (non-streamed) completion from one model, as it came, and what the judge and the
// metrics read from it; nullopt after a failure, with the failure's error in `error`. Never a
// JSON tree of the body: memory per answer is bounded by `max_bytes`, whatever its shape.
struct WholeAnswer {
  std::string body;
  DraftText draft;
  Usage usage;
};

net::awaitable<std::optional<WholeAnswer>> call_whole(Flow& f, const config::Model& m,
                                                      http::OutgoingBody body,
                                                      std::optional<http::OpenAiError>& error,
                                                      std::size_t max_bytes = kMaxCompletionBytes) {
  UpstreamLeg& leg = f.cx.trace.new_leg(m);
  leg.prepared = Clock::now();
  auto call = f.cx.models.open(m, leg, f.deadline);
  auto err = co_await call->start(std::move(body), false, f.cx.trace.request_id);
  std::string answer;
  if (err == upstream::CallError::none) {
    if (call->status() < 200 || call->status() > 299) {
      error = co_await upstream_status_error(*call, m, f.cx.serving->secrets);
      co_return std::nullopt;
    }
    err = co_await call->read_all(answer, max_bytes);
  }
  if (err != upstream::CallError::none) {
    error = call_failure(err, *call, m);
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
    co_await f.cx.client.reply_error(http::make_error(
        502, "upstream " + m.name + " returned no usable completion", "upstream_error"));
    co_return;
  }
  co_await f.cx.client.reply(200, std::move(*body), "application/json");
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
    co_await f.cx.client.reply_error(*error);
    co_return;
  }
  f.decide(route, m, reason);
  co_await reply_whole(f, *answer, m, {}, false);
  // Only hybrid_flow's before_draft branch calls this with Route::escalated.
  if (route == Route::escalated) f.after_pre_draft_escalation(answer->draft);
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
      co_await f.cx.client.reply_error(*error);
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
    f.after_accepted_draft(draft->draft);  // the answer is out: measure
    co_return;
  }

  const auto mode =
      policies::escalation_mode(f.routing.on_escalate, !draft->draft.tool_calls.empty());
  // Replace sends the request's own messages: the client's bytes, not a tree of them.
  std::optional<nlohmann::json> refined;
  if (mode == config::OnEscalate::refine) refined = refine_messages(f, draft->draft.text);
  const nlohmann::json* messages = refined ? &*refined : nullptr;
  auto answer =
      co_await call_whole(f, large, routed_body(f.request, large, false, false, messages), error);
  if (!answer) {
    if (f.routing.fallback) {  // the draft is the best answer there is
      f.decide(Route::fallback, draft_model, Reason::upstream_error);
      co_await reply_whole(f, *draft, draft_model, {}, strip, keep_top);
    } else {
      f.decide(Route::escalated, large, verdict.reason);
      co_await f.cx.client.reply_error(*error);
    }
    co_return;
  }
  f.decide(Route::escalated, large, verdict.reason);
  co_await reply_whole(f, *answer, large, earlier_legs_usage(f.cx.trace), false);
}

// ---- streamed --------------------------------------------------------------------------------

// Opens a streamed call; false (and `error`) when it failed before any byte could be relayed.
net::awaitable<bool> open_stream(Flow& f, upstream::ModelStream& call, const config::Model& m,
                                 http::OutgoingBody body, std::optional<http::OpenAiError>& error) {
  auto err = co_await call.start(std::move(body), true, f.cx.trace.request_id);
  if (err != upstream::CallError::none) {
    error = call_failure(err, call, m);
    co_return false;
  }
  if (call.status() < 200 || call.status() > 299) {
    error = co_await upstream_status_error(call, m, f.cx.serving->secrets);
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
  const bool pre_draft = route == Route::escalated && f.cx.trace.leg_count == 0 && !messages &&
                         f.cx.hooks && f.cx.hooks->wants_pre_draft();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const config::Model& target = attempt == 0 ? m : other(f, m);
    UpstreamLeg& leg = f.cx.trace.new_leg(target);
    leg.prepared = Clock::now();
    auto call = f.cx.models.open(target, leg, f.deadline);
    std::optional<http::OpenAiError> error;
    const bool refined = attempt == 0 && messages;
    bool opened = co_await open_stream(
        f, *call, target, routed_body(f.request, target, true, false, refined ? messages : nullptr),
        error);
    if (opened) {
      if (attempt == 0) {
        f.decide(route, target, reason);
      } else {
        f.decide(Route::fallback, target, Reason::upstream_error);
      }
      bool started = co_await f.cx.client.begin_stream(200, "text/event-stream");
      if (!started) co_return;
      SseReader events(*call);
      StreamEdits edits = routed_edits(f.request, target, false);
      if (!edits.drop_usage) edits.add_usage = earlier_legs_usage(f.cx.trace);
      DraftText relayed_answer;
      const bool observe = pre_draft && attempt == 0;
      bool relayed = co_await relay_events(f.cx, events, leg, target, edits,
                                           observe ? &relayed_answer : nullptr);
      if (relayed && observe) f.after_pre_draft_escalation(relayed_answer);
      co_return;
    }
    if (attempt == 1 || !f.may_fall_back() || route == Route::fallback) {
      f.decide(route, target, reason);
      co_await f.cx.client.reply_error(*error);
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
  upstream::CallError error = upstream::CallError::none;  // reading the draft failed
  const policies::RequestedOutput* requested = nullptr;   // what the request asked for

  // Ended without a usable answer: the large model answers instead. (A bound reached with some
  // text is judged on that prefix like any other.)
  bool failed() const {
    return error != upstream::CallError::none || broken ||
           ((complete || bounded) && !draft.answered());
  }
};

// Whether the hold window has seen enough of the draft to judge it: `hold_tokens` content
// tokens, or the point where no rule could still fire on more text (then holding longer only
// adds delay). Tool-call deltas are progress too; a tool call is held until its arguments are
// complete, and structured output that invalid_json judges until it is whole.
bool seen_enough(const policies::Rules& rules, std::uint32_t hold_tokens, const Held& held) {
  if (hold_tokens == 0) return true;  // 0: no hold
  const JudgedDraft prefix(held.draft, false, held.requested);
  if (policies::hold_past_window(rules, prefix.draft)) return false;
  if (held.draft.tokens >= hold_tokens) return true;
  return held.draft.tokens > 0 && !policies::can_still_escalate_later(rules, prefix.draft);
}

// Reads draft events into `held` until it has seen enough to judge (above), the end of the
// draft, or until the held bytes or the time held reach their bound (a draft that streams
// comments or content-free deltas would otherwise be held, and buffered, until the request
// deadline). The bounds are checked before each wait for more bytes: a draft that sends nothing
// at all is bounded by its timeout_ms.
net::awaitable<void> hold_window(const policies::Rules& rules, const config::Routing& routing,
                                 SseReader& events, UpstreamLeg& leg, Held& held,
                                 const StreamEdits& edits) {
  const auto hold_until = Clock::now() + std::chrono::milliseconds(routing.hold_max_ms);
  for (;;) {
    // Counted with the incomplete event the reader holds: both are buffered for this request.
    if (!events.buffered() && (held.out.size() + events.pending().size() > routing.hold_max_bytes ||
                               Clock::now() >= hold_until)) {
      held.bounded = true;
      co_return;
    }
    auto n = co_await events.next();
    switch (n.step) {
      case SseReader::Step::failed:
        held.error = n.error;
        co_return;
      case SseReader::Step::overflow:
        held.broken = true;
        co_return;
      case SseReader::Step::end:
        held.complete = true;
        co_return;
      case SseReader::Step::event:
        break;
    }
    const http::SseEvent& ev = *n.event;
    if (ev.has_data && ev.data == "[DONE]") held.complete = true;
    if (!add_event_to_draft(held.draft, ev)) {
      held.broken = true;
      co_return;
    }
    append_event(held.out, ev, edits, leg);
    if (held.complete || seen_enough(rules, routing.hold_tokens, held)) co_return;
  }
}

// The held draft was accepted: its events go out, then the rest of the draft as it comes.
net::awaitable<void> commit_draft(Flow& f, SseReader& events, UpstreamLeg& leg, Held& held,
                                  const StreamEdits& edits) {
  const config::Model& draft_model = *f.sc.draft;
  f.decide(Route::draft, draft_model, Reason::none);
  bool started = co_await f.cx.client.begin_stream(200, "text/event-stream");
  if (!started) co_return;
  bool flushed = co_await f.cx.client.write_chunk(held.out);
  if (!flushed) co_return;
  std::string().swap(held.out);  // every held event: not kept for the rest of the stream
  if (held.complete) {
    leg.done = Clock::now();
    bool ended = co_await f.cx.client.end_stream();
    if (ended) f.after_accepted_draft(held.draft);
    co_return;
  }
  // Committed: later signals cannot change the route, but they are counted so users can tune.
  DraftText whole = std::move(held.draft);
  bool relayed = co_await relay_events(f.cx, events, leg, draft_model, edits, &whole);
  if (relayed) {
    auto late = f.judge(whole, true);
    if (late.escalate) f.cx.trace.would_escalate = policies::to_string(late.reason);
    f.after_accepted_draft(whole);
  }
}

// Refine needs the whole draft: the rest is read (never sent), bounded like a non-streamed
// draft: past routing.draft_max_bytes of events the rest is not read.
net::awaitable<void> read_rest_of_draft(Flow& f, SseReader& events, UpstreamLeg& leg,
                                        DraftText& full) {
  std::string ignored;
  const StreamEdits none;
  std::uint64_t read_bytes = 0;  // event bytes: tool-call deltas and logprobs are kept too
  for (;;) {
    auto n = co_await events.next();
    if (n.step != SseReader::Step::event) co_return;
    const http::SseEvent& ev = *n.event;
    if (ev.has_data) read_bytes += ev.data.size();
    add_event_to_draft(full, ev);
    append_event(ignored, ev, none, leg);  // usage and first token, for the record
    ignored.clear();
    if (full.text.size() > f.routing.draft_max_bytes || read_bytes > f.routing.draft_max_bytes) {
      co_return;
    }
  }
}

// The held draft was judged bad: refine reads the rest of it and has the large model improve it;
// replace closes the draft request at once, so the small model stops generating.
net::awaitable<void> abandon_draft(Flow& f, upstream::ModelStream& call, SseReader& events,
                                   UpstreamLeg& leg, Held& held, Reason reason) {
  const auto mode =
      policies::escalation_mode(f.routing.on_escalate, !held.draft.tool_calls.empty());
  DraftText full = std::move(held.draft);
  if (mode == config::OnEscalate::refine && !held.complete) {
    co_await read_rest_of_draft(f, events, leg, full);
  }
  leg.done = Clock::now();
  call.finish();
  if (mode != config::OnEscalate::refine) {
    co_await stream_on(f, *f.sc.escalate, Route::escalated, reason, nullptr);
    co_return;
  }
  auto messages = refine_messages(f, full.text);
  co_await stream_on(f, *f.sc.escalate, Route::escalated, reason, &messages);
}

// A draft that failed before it could be judged: the large model answers when fallback allows.
net::awaitable<void> draft_failed(Flow& f, upstream::ModelStream& call,
                                  std::optional<http::OpenAiError> error) {
  const config::Model& draft_model = *f.sc.draft;
  if (!f.may_fall_back()) {
    f.decide(Route::draft, draft_model, Reason::none);
    co_await f.cx.client.reply_error(error.value_or(http::make_error(
        502, "upstream " + draft_model.name + " sent an unusable stream", "upstream_error")));
    co_return;
  }
  call.finish();
  co_await stream_on(f, *f.sc.escalate, Route::fallback, Reason::upstream_error, nullptr);
}

// The draft stream opened; when it could not be, the answer comes from draft_failed (false).
// Coroutines of their own, as held_draft_failed: the error and the request body would
// otherwise sit in hybrid_stream()'s frame, which lives as long as the stream.
net::awaitable<bool> open_draft(Flow& f, upstream::ModelStream& call,
                                const config::Model& draft_model) {
  std::optional<http::OpenAiError> error;
  bool opened = co_await open_stream(
      f, call, draft_model,
      routed_body(f.request, draft_model, true, f.want_logprobs, nullptr, f.want_top_logprobs),
      error);
  if (!opened) co_await draft_failed(f, call, std::move(error));
  co_return opened;
}

// The hold window ended without a usable draft.
net::awaitable<void> held_draft_failed(Flow& f, upstream::ModelStream& call, UpstreamLeg& leg,
                                       const Held& held, const config::Model& draft_model) {
  std::optional<http::OpenAiError> error;
  if (held.error != upstream::CallError::none) {
    error = call_failure(held.error, call, draft_model);
  } else {
    leg.error = held.broken ? "bad_response" : held.bounded ? "hold_bound" : "empty_draft";
  }
  co_await draft_failed(f, call, std::move(error));
}

net::awaitable<void> hybrid_stream(Flow& f) {
  const config::Model& draft_model = *f.sc.draft;
  UpstreamLeg& leg = f.cx.trace.new_leg(draft_model);
  leg.prepared = Clock::now();
  auto call = f.cx.models.open(draft_model, leg, f.deadline);
  const bool opened = co_await open_draft(f, *call, draft_model);
  if (!opened) co_return;

  // Hold the first hold_tokens draft tokens: nothing reaches the client before the verdict,
  // so the headers that announce the route are true.
  const StreamEdits edits =
      routed_edits(f.request, draft_model, f.want_logprobs, f.want_top_logprobs);
  SseReader events(*call);
  Held held;
  held.requested = &f.requested;
  co_await hold_window(f.sc.rules, f.routing, events, leg, held, edits);
  if (held.failed()) {
    co_await held_draft_failed(f, *call, leg, held, draft_model);
    co_return;
  }
  auto verdict = f.judge(held.draft, held.complete);
  if (!verdict.escalate) {
    co_await commit_draft(f, events, leg, held, edits);
  } else {
    co_await abandon_draft(f, *call, events, leg, held, verdict.reason);
  }
}

// The prompt's rules, before any draft. Not inline in hybrid_flow(): the prompt's text (a copy
// of every message) would sit in its frame for as long as the stream.
policies::Verdict judge_prompt(Flow& f) {
  FlowContext& cx = f.cx;
  const bool decision_logged = !cx.cfg().routing.decision_log.empty();
  const bool with_text =
      (decision_logged && cx.log_prompts) || !f.sc.rules.before_draft().match.empty();
  policies::PromptStats stats;
  if (f.request.prompt_chars && !with_text) {
    stats.chars = *f.request.prompt_chars;  // counted while validating: no tree of the prompt
  } else {
    nlohmann::json read;
    stats = policies::prompt_stats(messages_of(f.request, read), with_text);
  }
  cx.trace.prompt_chars = stats.chars;
  if (decision_logged) {
    cx.trace.decision.routed = true;
    cx.trace.decision.prompt_chars = stats.chars;
    if (cx.log_prompts) cx.trace.decision.prompt_text = stats.text;
  }
  return policies::before_draft(f.sc.rules, stats);
}

}  // namespace

net::awaitable<void> hybrid_flow(FlowContext& cx, ChatRequest& request) {
  Flow f(cx, request);
  const policies::Verdict before = judge_prompt(f);
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
