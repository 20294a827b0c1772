#include "gateway/shadow/shadow.hpp"

#include <atomic>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <vector>

#include "gateway/completion/upstream_body.hpp"
#include "gateway/completion/whole_completion.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/log/access_log.hpp"
#include "gateway/log/decision_log.hpp"
#include "gateway/metrics/cost.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/shadow/sampler.hpp"
#include "policies/agreement.hpp"
#include "policies/pairwise_judge.hpp"

namespace gw::shadow {

namespace {

constexpr char kUpstreamIdSuffix[] = "-shadow";

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
  Answer original;       // what the client got
  bool judge = false;    // sampled at judge_sample_rate too
  std::string question;  // for the judge: the request's system and user text

  // The x-request-id upstreams see: the request's, marked, so their logs tell the two apart.
  std::string upstream_id() const { return request_id + kUpstreamIdSuffix; }
};

// Releases the inflight slot on every exit, also when the io_context destroys the coroutine.
struct Slot {
  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() { g_inflight.fetch_sub(1, std::memory_order_relaxed); }
};

void log_event(AccessLog* log, const Job& job, ShadowResult result, const policies::Agreement* a,
               double cost_usd, double seconds, std::string_view error,
               const std::optional<policies::ShadowVerdict>* judged) {
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
  if (judged) {  // the verdict came from the rubric judge (null: its answer was unusable)
    extra += ",\"judge\":";
    if (*judged) {
      extra += '"';
      extra += policies::to_string(**judged);
      extra += '"';
    } else {
      extra += "null";
    }
    extra += ",\"judge_prompt\":\"";
    extra += policies::kPairPromptVersion;
    extra += '"';
  }
  if (log) log->event("info", "shadow", "shadow comparison", extra);
  // routing.decision_log: one hg.shadow/1 line per sample (dropped ones too), joined to the
  // request's hg.decision/1 line by request_id and weighted by 1 / sample_probability offline.
  const config::Config& cfg = *job.serving->cfg;
  if (!cfg.routing.decision_log.empty()) {
    decision_log().append(cfg.routing.decision_log, cfg.routing.decision_log_max_bytes,
                          "{\"schema\":\"hg.shadow/1\"," + extra + "}");
  }
}

// One non-streamed call of a shadow: the answer's facts, or why it failed; its cost is added to
// the hour's shadow spend (a failed call counts as free: its tokens are unknown).
struct Called {
  std::optional<chat::CompletionFacts> facts;
  std::string_view error;
  double cost_usd = 0;
  double seconds = 0;
};

net::awaitable<Called> call_whole(HandlerDeps& deps, const config::Config& cfg,
                                  const config::Model& model, std::string body,
                                  const std::string& request_id) {
  Called out;
  UpstreamLeg leg;
  leg.model = &model;
  leg.prepared = Clock::now();
  const auto deadline = leg.prepared + std::chrono::milliseconds(cfg.server.request_timeout_ms);
  auto call = deps.models.open(model, leg, deadline);
  auto err = co_await call->start(std::move(body), false, request_id);
  std::string answer;
  if (err == upstream::CallError::none) {
    if (call->status() < 200 || call->status() > 299) {
      out.error = "http_status";
    } else {
      err = co_await call->read_all(answer, cfg.routing.draft_max_bytes);
    }
  }
  if (err != upstream::CallError::none) out.error = upstream::to_string(err);
  call->finish();
  out.seconds = std::chrono::duration<double>(Clock::now() - leg.prepared).count();
  if (!out.error.empty()) co_return out;
  out.facts = chat::read_completion_facts(answer);
  if (!out.facts || !out.facts->draft.answered()) {
    out.facts.reset();
    out.error = "bad_response";
    co_return out;
  }
  const auto& f = *out.facts;
  std::uint64_t chars = f.draft.text.size();
  for (const auto& c : f.draft.tool_calls.calls) chars += c.name.size() + c.arguments.size();
  const auto completion =
      f.usage.present ? f.usage.completion_tokens : chat::estimate_tokens(chars);
  out.cost_usd = call_cost_usd(model.price, f.usage.prompt_tokens, completion, out.seconds);
  g_spend.add(out.cost_usd, Clock::now());
  if (Metrics* m = deps.metrics) m->shadow.cost_usd->Increment(out.cost_usd);
  co_return out;
}

// The system and user text of a request's messages: the question the evaluation judge is shown.
std::string question_of(const nlohmann::json& messages) {
  std::string q;
  if (!messages.is_array()) return q;
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    auto role = m.find("role");
    auto content = m.find("content");
    if (role == m.end() || !role->is_string() || content == m.end() || !content->is_string()) {
      continue;
    }
    if (*role != "system" && *role != "user") continue;
    if (!q.empty()) q += "\n\n";
    q += content->get<std::string>();
  }
  return q;
}

// The evaluation command's pairwise judge (policies/pairwise_judge.hpp, prompt hg.pair/1), asked in
// both orders as `eval grade` does: the draft wins only when both orders say so, the large model
// likewise, anything else is a tie. nullopt when a judge answer could not be read. The judge is
// the escalation model.
net::awaitable<std::optional<policies::ShadowVerdict>> judge_pair(HandlerDeps& deps, const Job& job,
                                                                  const std::string& draft,
                                                                  const std::string& large,
                                                                  double& cost_usd) {
  const config::Config& cfg = *job.serving->cfg;
  const config::Model& judge = *job.serving->escalate;
  std::array<std::optional<std::string>, 2> winners;
  for (int order = 0; order < 2; ++order) {
    nlohmann::json body = {{"model", judge.upstream_model},
                           {"max_tokens", policies::kJudgeMaxTokens},
                           {"temperature", 0}};
    body["messages"] = order == 0 ? policies::pair_messages(job.question, draft, large)
                                  : policies::pair_messages(job.question, large, draft);
    auto called = co_await call_whole(deps, cfg, judge, body.dump(), job.upstream_id());
    cost_usd += called.cost_usd;
    if (!called.facts) co_return std::nullopt;
    winners[order] = policies::parse_pair(called.facts->draft.text);
    if (!winners[order]) co_return std::nullopt;
  }
  auto side = [](const std::string& w, bool draft_first) -> std::string {
    if (w == "A") return draft_first ? "draft" : "large";
    if (w == "B") return draft_first ? "large" : "draft";
    return "tie";
  };
  const auto first = side(*winners[0], true);
  const auto second = side(*winners[1], false);
  if (first != second || first == "tie") co_return policies::ShadowVerdict::tie;
  co_return first == "draft" ? policies::ShadowVerdict::draft_better
                             : policies::ShadowVerdict::draft_worse;
}

net::awaitable<void> run(HandlerDeps& deps, Job job) {
  Slot slot;
  const config::Config& cfg = *job.serving->cfg;
  Metrics* metrics = deps.metrics;
  auto called = co_await call_whole(deps, cfg, *job.model, std::move(job.body), job.upstream_id());
  double cost = called.cost_usd;
  if (!called.facts) {
    if (metrics) metrics->shadow.result(ShadowResult::failed).Increment();
    log_event(deps.log, job, ShadowResult::failed, nullptr, cost, called.seconds, called.error,
              nullptr);
    co_return;
  }
  const Answer shadow_answer = Answer::of(called.facts->draft);
  const bool shadow_is_draft = job.of == ShadowOf::escalated;
  const Answer& draft = shadow_is_draft ? shadow_answer : job.original;
  const Answer& large = shadow_is_draft ? job.original : shadow_answer;
  const auto draft_calls = draft.views();
  const auto large_calls = large.views();
  const auto& s = cfg.routing.shadow;
  auto agreement =
      policies::compare_answers({draft.text, draft_calls}, {large.text, large_calls},
                                {.numeric = s.compare_numeric, .token_f1 = s.compare_token_f1});
  // A sub-sample is judged (text answers only): the judge's verdict replaces the cheap one.
  std::optional<policies::ShadowVerdict> judged;
  if (job.judge && draft_calls.empty() && large_calls.empty()) {
    judged = co_await judge_pair(deps, job, draft.text, large.text, cost);
    if (judged) agreement.verdict = *judged;
  }
  if (metrics) {
    metrics->shadow.result(ShadowResult::completed).Increment();
    metrics->shadow.verdict(job.of, agreement.verdict).Increment();
    if (agreement.score) metrics->shadow.agreement_of(job.of).Observe(*agreement.score);
  }
  log_event(deps.log, job, ShadowResult::completed, &agreement, cost, called.seconds, {},
            job.judge ? &judged : nullptr);
}

void maybe_start(Exchange& ex, const chat::ChatRequest& request, const chat::DraftText& original,
                 ShadowOf of) {
  const auto& s = ex.cfg().routing.shadow;
  const double rate = of == ShadowOf::draft ? s.sample_rate : s.pre_draft_sample_rate;
  // Only once the whole answer is out: a shadow never races the client's bytes.
  if (!ex.complete() || ex.sent_status() != 200) return;
  if (!sampled(rate, s.seed, ex.trace.request_id)) return;
  HandlerDeps& deps = ex.deps;
  if (deps.draining.load(std::memory_order_relaxed)) return;  // a drain never waits for one
  Metrics* metrics = deps.metrics;
  Job job;
  job.serving = ex.serving;
  job.model = of == ShadowOf::draft ? job.serving->escalate : job.serving->draft;
  job.of = of;
  job.probability = rate;
  job.request_id = ex.trace.request_id;
  auto drop = [&](ShadowResult why) {
    if (metrics) metrics->shadow.result(why).Increment();
    log_event(deps.log, job, why, nullptr, 0, 0, {}, nullptr);
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
  // Owned: the job outlives the client's request, whose bytes the leg's body borrows.
  job.body = chat::routed_body(request, *job.model, false, false).text();
  job.original = Answer::of(original);
  // A second, independent draw (seed + 1) picks the judged sub-sample of the shadowed ones.
  job.judge = sampled(s.judge_sample_rate, s.seed + 1, job.request_id);
  if (job.judge) {
    nlohmann::json read;
    job.question = question_of(chat::messages_of(request, read));
  }
  // The slot is released by run(): construct its guard first thing. If co_spawn throws (out of
  // memory), give the slot back here.
  try {
    net::co_spawn(deps.ioc, run(deps, std::move(job)), net::detached);
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
