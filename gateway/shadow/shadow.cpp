#include "gateway/shadow/shadow.hpp"

#include <atomic>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <vector>

#include "gateway/chat/upstream_body.hpp"
#include "gateway/chat/whole_completion.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/log/access_log.hpp"
#include "gateway/metrics/cost.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/shadow/sampler.hpp"
#include "gateway/upstream/call.hpp"
#include "policies/agreement.hpp"

namespace gw::shadow {

namespace {

// Shadow calls in flight in this process (every thread), against routing.shadow.max_inflight.
std::atomic<std::uint32_t> g_inflight{0};
// What shadow calls spent over the last hour, against routing.shadow.budget_usd_per_hour.
SpendWindow g_spend;

struct Answer {
  std::string text;
  std::vector<std::string> names, arguments;  // tool calls, in order

  static Answer of(const chat::DraftText& d) {
    Answer a{d.text, {}, {}};
    for (const auto& c : d.tool_calls.calls) {
      a.names.push_back(c.name);
      a.arguments.push_back(c.arguments);
    }
    return a;
  }
  std::vector<policies::ToolCall> views() const {
    std::vector<policies::ToolCall> v;
    for (std::size_t i = 0; i < names.size(); ++i) v.push_back({names[i], arguments[i]});
    return v;
  }
};

// One shadow call: everything it needs, owned, since the request that sampled it is gone.
struct Job {
  ServingSnapshot serving;  // keeps the request's config (models, prices) alive and unchanged
  const config::Model* model = nullptr;  // the model asked in the shadow
  ShadowOf of = ShadowOf::draft;
  double probability = 0;  // the sampling rate it was drawn at (for offline weighting)
  std::string request_id;
  std::string body;
  Answer original;  // what the client got
};

// Releases the inflight slot on every exit, also when the io_context destroys the coroutine.
struct Slot {
  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() { g_inflight.fetch_sub(1, std::memory_order_relaxed); }
};

void log_event(const Runtime& rt, const Job& job, ShadowResult result, const policies::Agreement* a,
               double cost_usd, double seconds, std::string_view error) {
  if (!rt.log) return;
  std::string extra = "\"request_id\":";
  http::append_json_string(extra, job.request_id);
  extra += ",\"shadow_of\":\"";
  extra += job.of == ShadowOf::draft ? "draft" : "escalated";
  extra += "\",\"model\":";
  http::append_json_string(extra, job.model->name);
  extra += ",\"result\":\"" + std::string(to_string(result)) + "\"";
  char num[64];
  std::snprintf(num, sizeof num, ",\"sample_probability\":%.17g", job.probability);
  extra += num;
  if (!error.empty()) {
    extra += ",\"error\":";
    http::append_json_string(extra, error);
  }
  if (result == ShadowResult::completed || result == ShadowResult::failed) {
    std::snprintf(num, sizeof num, ",\"cost_usd\":%.17g,\"seconds\":%.6f", cost_usd, seconds);
    extra += num;
  }
  if (a) {
    extra += ",\"verdict\":\"" + std::string(policies::to_string(a->verdict)) + "\",\"basis\":\"" +
             std::string(a->basis) + "\"";
    if (a->score) {
      std::snprintf(num, sizeof num, ",\"agreement\":%.17g", *a->score);
      extra += num;
    } else {
      extra += ",\"agreement\":null";
    }
    std::snprintf(num, sizeof num, ",\"token_f1\":%.6f,\"length_ratio\":%.6f", a->token_f1,
                  a->length_ratio);
    extra += num;
    auto number = [&](const char* key, const std::optional<std::string>& n) {
      extra += ",\"";
      extra += key;
      extra += "\":";
      if (n) {
        http::append_json_string(extra, *n);
      } else {
        extra += "null";
      }
    };
    number("draft_number", a->draft_number);
    number("large_number", a->reference_number);
  }
  rt.log->event("info", "shadow", "shadow comparison", extra);
}

net::awaitable<void> run(ThreadContext& thread, Job job) {
  Slot slot;
  const config::Config& cfg = *job.serving->cfg;
  Metrics* metrics = thread.runtime.metrics;
  UpstreamLeg leg;
  leg.model = job.model;
  leg.prepared = Clock::now();
  const auto deadline = leg.prepared + std::chrono::milliseconds(cfg.server.request_timeout_ms);
  upstream::Call call(thread.pool, *job.model, leg, deadline);
  auto err = co_await call.start(std::move(job.body), false, job.request_id);
  std::string body;
  std::string_view error;
  if (err == upstream::CallError::none) {
    if (call.status() < 200 || call.status() > 299) {
      error = "http_status";
    } else {
      err = co_await call.read_all(body, cfg.routing.draft_max_bytes);
    }
  }
  if (err != upstream::CallError::none) error = upstream::to_string(err);
  call.finish();
  const double seconds = std::chrono::duration<double>(Clock::now() - leg.prepared).count();
  std::optional<chat::CompletionFacts> facts;
  if (error.empty()) {
    facts = chat::read_completion_facts(body);
    if (!facts || !facts->draft.answered()) error = "bad_response";
  }
  // Tokens are paid for whether or not the answer is usable; a failed call is counted as free
  // (its tokens are unknown).
  double cost = 0;
  if (facts) {
    std::uint64_t chars = facts->draft.text.size();
    for (const auto& c : facts->draft.tool_calls.calls) chars += c.name.size() + c.arguments.size();
    const auto completion =
        facts->usage.present ? facts->usage.completion_tokens : chat::estimate_tokens(chars);
    cost = call_cost_usd(job.model->price, facts->usage.prompt_tokens, completion, seconds);
    g_spend.add(cost, Clock::now());
    if (metrics) metrics->shadow.cost_usd->Increment(cost);
  }
  if (!error.empty()) {
    if (metrics) metrics->shadow.result(ShadowResult::failed).Increment();
    log_event(thread.runtime, job, ShadowResult::failed, nullptr, cost, seconds, error);
    co_return;
  }
  const Answer shadow_answer = Answer::of(facts->draft);
  const bool shadow_is_draft = job.of == ShadowOf::escalated;
  const Answer& draft = shadow_is_draft ? shadow_answer : job.original;
  const Answer& large = shadow_is_draft ? job.original : shadow_answer;
  const auto draft_calls = draft.views();
  const auto large_calls = large.views();
  const auto& s = cfg.routing.shadow;
  const auto agreement =
      policies::compare_answers({draft.text, draft_calls}, {large.text, large_calls},
                                {.numeric = s.compare_numeric, .token_f1 = s.compare_token_f1});
  if (metrics) {
    metrics->shadow.result(ShadowResult::completed).Increment();
    metrics->shadow.verdict(job.of, agreement.verdict).Increment();
    if (agreement.score) metrics->shadow.agreement_of(job.of).Observe(*agreement.score);
  }
  log_event(thread.runtime, job, ShadowResult::completed, &agreement, cost, seconds, {});
}

void maybe_start(Exchange& ex, const chat::ChatRequest& request, const chat::DraftText& original,
                 ShadowOf of) {
  const auto& s = ex.cfg().routing.shadow;
  const double rate = of == ShadowOf::draft ? s.sample_rate : s.pre_draft_sample_rate;
  // Only once the whole answer is out: a shadow never races the client's bytes.
  if (!ex.complete() || ex.sent_status() != 200) return;
  if (!sampled(rate, s.seed, ex.trace.request_id)) return;
  Runtime& rt = ex.thread.runtime;
  if (rt.draining.load(std::memory_order_relaxed)) return;  // a drain never waits for one
  Metrics* metrics = rt.metrics;
  Job job;
  job.serving = ex.serving;
  job.model = of == ShadowOf::draft ? job.serving->escalate : job.serving->draft;
  job.of = of;
  job.probability = rate;
  job.request_id = ex.trace.request_id;
  auto drop = [&](ShadowResult why) {
    if (metrics) metrics->shadow.result(why).Increment();
    log_event(rt, job, why, nullptr, 0, 0, {});
  };
  if (g_spend.spent(Clock::now()) >= s.budget_usd_per_hour) {
    drop(ShadowResult::dropped_budget);
    return;
  }
  // Claim a slot; give it back when the cap is reached.
  if (g_inflight.fetch_add(1, std::memory_order_relaxed) >= s.max_inflight) {
    g_inflight.fetch_sub(1, std::memory_order_relaxed);
    drop(ShadowResult::dropped_inflight);
    return;
  }
  job.body = chat::routed_body(request, *job.model, false, false);
  job.original = Answer::of(original);
  // The slot is released by run(): construct its guard first thing. If co_spawn throws (out of
  // memory), give the slot back here.
  try {
    net::co_spawn(ex.thread.ioc, run(ex.thread, std::move(job)), net::detached);
  } catch (...) {
    g_inflight.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace

void after_accepted_draft(Exchange& ex, const chat::ChatRequest& request,
                          const chat::DraftText& draft) {
  if (ex.cfg().routing.shadow.sample_rate <= 0) return;
  maybe_start(ex, request, draft, ShadowOf::draft);
}

void after_pre_draft_escalation(Exchange& ex, const chat::ChatRequest& request,
                                const chat::DraftText& answer) {
  if (ex.cfg().routing.shadow.pre_draft_sample_rate <= 0) return;
  maybe_start(ex, request, answer, ShadowOf::escalated);
}

bool wants_pre_draft(const Exchange& ex) {
  const auto& s = ex.cfg().routing.shadow;
  return sampled(s.pre_draft_sample_rate, s.seed, ex.trace.request_id);
}

}  // namespace gw::shadow
