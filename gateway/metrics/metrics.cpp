#include "gateway/metrics/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "gateway/metrics/cost.hpp"
#include "policies/verdict.hpp"

namespace gw {

namespace {

constexpr std::array<std::string_view, kStages> kStageNames = {
    "prep", "upstream_send", "first_token", "completion", "total"};
constexpr std::array<std::string_view, kRoutes> kRouteNames = {"direct", "draft", "escalated",
                                                               "fallback", "none"};
constexpr const char* kNoModel = "none";

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return ms_between(from, to) / 1000.0;
}
bool is_set(Clock::time_point t) {
  return t != Clock::time_point{};
}

prometheus::Gauge& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::size_t count_open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    // readdir is unsafe only on a DIR* shared between threads; this one is local to the call.
    while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';  // NOLINT(concurrency-mt-unsafe)
    ::closedir(d);
    --n;  // the directory stream's own descriptor
  }
  return n;
}

std::unique_ptr<ModelSeries> make_series(Metrics& m, const std::string& model) {
  auto s = std::make_unique<ModelSeries>();
  for (std::size_t i = 0; i < kStages; ++i) {
    const auto& buckets = i == static_cast<std::size_t>(Stage::prep) ||
                                  i == static_cast<std::size_t>(Stage::upstream_send)
                              ? prep_buckets_seconds()
                              : model_buckets_seconds();
    s->stage[i] =
        &m.stage_duration.Add({{"stage", std::string(kStageNames[i])}, {"model", model}}, buckets);
  }
  s->prompt_tokens = &m.tokens.Add({{"model", model}, {"kind", "prompt"}});
  s->completion_tokens = &m.tokens.Add({{"model", model}, {"kind", "completion"}});
  s->cost_usd = &m.cost.Add({{"model", model}});
  for (std::size_t i = 0; i < kUpstreamErrorKinds.size(); ++i) {
    s->upstream_errors[i] =
        &m.upstream_errors.Add({{"model", model}, {"kind", std::string(kUpstreamErrorKinds[i])}});
  }
  return s;
}

std::size_t error_kind_index(std::string_view kind) {
  for (std::size_t i = 0; i < kUpstreamErrorKinds.size(); ++i) {
    if (kUpstreamErrorKinds[i] == kind) return i;
  }
  return kUpstreamErrorKinds.size();
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& prep_buckets_seconds() {
  static const prometheus::Histogram::BucketBoundaries b = {
      1e-6,   2.5e-6, 5e-6, 1e-5,  2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
      2.5e-3, 5e-3,   0.01, 0.025, 0.05,   0.1,  0.25, 0.5,    1.0};
  return b;
}

const prometheus::Histogram::BucketBoundaries& model_buckets_seconds() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25, 0.5,  0.75, 1.0,
      2.5,   5.0,   7.5,  10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 80.0, 120.0};
  return b;
}

// ---- Metrics -----------------------------------------------------------------------------

Metrics::Metrics()
    : registry(std::make_shared<prometheus::Registry>()),
      requests(prometheus::BuildCounter()
                   .Name("gateway_requests_total")
                   .Help("Chat completion requests by the model that answered, route and status")
                   .Register(*registry)),
      stage_duration(prometheus::BuildHistogram()
                         .Name("gateway_stage_duration_seconds")
                         .Help("Time spent in each stage of a request, per model")
                         .Register(*registry)),
      tokens(prometheus::BuildCounter()
                 .Name("gateway_tokens_total")
                 .Help("Tokens by model and kind, from upstream usage (or estimated)")
                 .Register(*registry)),
      cost(prometheus::BuildCounter()
               .Name("gateway_cost_usd_total")
               .Help("Cost in USD of upstream calls: tokens x configured prices")
               .Register(*registry)),
      baseline_cost(prometheus::BuildCounter()
                        .Name("gateway_baseline_cost_usd_total")
                        .Help("What the answers' tokens would have cost on routing.escalate alone")
                        .Register(*registry)
                        .Add({})),
      escalations(prometheus::BuildCounter()
                      .Name("gateway_escalations_total")
                      .Help("Routed requests answered by the escalation model, by reason")
                      .Register(*registry)),
      would_escalate(prometheus::BuildCounter()
                         .Name("gateway_would_escalate_total")
                         .Help("Committed streamed drafts that a later signal judged bad")
                         .Register(*registry)),
      upstream_errors(prometheus::BuildCounter()
                          .Name("gateway_upstream_errors_total")
                          .Help("Failed upstream calls by model and kind")
                          .Register(*registry)),
      token_estimates(prometheus::BuildCounter()
                          .Name("gateway_token_estimates_total")
                          .Help("Upstream calls whose tokens were estimated (no usage reported)")
                          .Register(*registry)
                          .Add({})),
      inflight_requests(gauge(*registry, "gateway_inflight_requests",
                              "Chat completion requests being answered right now")),
      reloads_ok(prometheus::BuildCounter()
                     .Name("gateway_config_reloads_total")
                     .Help("Configuration reloads by result")
                     .Register(*registry)
                     .Add({{"result", "success"}})),
      reloads_failed(prometheus::BuildCounter()
                         .Name("gateway_config_reloads_total")
                         .Help("Configuration reloads by result")
                         .Register(*registry)
                         .Add({{"result", "failure"}})),
      drain_cut_requests(prometheus::BuildCounter()
                             .Name("gateway_drain_cut_requests_total")
                             .Help("Requests cut off (streams ended with an error event) when "
                                   "drain_timeout_ms passed")
                             .Register(*registry)
                             .Add({})),
      log_lines_dropped(prometheus::BuildCounter()
                            .Name("gateway_log_lines_dropped_total")
                            .Help("Log lines dropped because stdout did not keep up")
                            .Register(*registry)
                            .Add({})),
      decision_log_lines_dropped(
          prometheus::BuildCounter()
              .Name("gateway_decision_log_lines_dropped_total")
              .Help("Decision-log lines dropped because the file writer did not keep up")
              .Register(*registry)
              .Add({})),
      decision_log_write_errors(
          prometheus::BuildCounter()
              .Name("gateway_decision_log_write_errors_total")
              .Help("Decision-log lines lost because the file could not be opened or written")
              .Register(*registry)
              .Add({})),
      resident_memory_bytes_(
          gauge(*registry, "process_resident_memory_bytes", "Resident memory size in bytes.")),
      virtual_memory_bytes_(
          gauge(*registry, "process_virtual_memory_bytes", "Virtual memory size in bytes.")),
      open_fds_(gauge(*registry, "process_open_fds", "Number of open file descriptors.")),
      max_fds_(gauge(*registry, "process_max_fds", "Maximum number of open file descriptors.")),
      start_time_seconds_(gauge(*registry, "process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.")),
      cpu_seconds_(prometheus::BuildCounter()
                       .Name("process_cpu_seconds_total")
                       .Help("Total user and system CPU time spent in seconds.")
                       .Register(*registry)
                       .Add({})) {
  start_time_seconds_.Set(now_seconds());
  using policies::Reason;
  for (Reason r :
       {Reason::prompt_chars_over, Reason::match, Reason::chars_under, Reason::chars_over,
        Reason::finish_reason_length, Reason::refusal, Reason::mean_logprob_under,
        Reason::min_logprob_under, Reason::p10_logprob_under, Reason::first_margin_under,
        Reason::invalid_tool_call, Reason::invalid_json, Reason::upstream_error}) {
    auto name = policies::to_string(r);
    escalation_children_.emplace_back(name, &escalations.Add({{"reason", std::string(name)}}));
    if (r != Reason::upstream_error) {
      would_escalate_children_.emplace_back(name,
                                            &would_escalate.Add({{"reason", std::string(name)}}));
    }
  }
}

prometheus::Counter& Metrics::escalation(std::string_view reason) {
  for (auto& [name, c] : escalation_children_) {
    if (name == reason) return *c;
  }
  return *escalation_children_.back().second;  // unreachable: reasons are a closed set
}

prometheus::Counter& Metrics::would_escalate_for(std::string_view reason) {
  for (auto& [name, c] : would_escalate_children_) {
    if (name == reason) return *c;
  }
  return *would_escalate_children_.back().second;
}

void Metrics::refresh_process_metrics() {
  // /proc/self/stat after the command: utime (14), stime (15), vsize (23), rss pages (24).
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close_paren = content.rfind(')');
  if (close_paren != std::string::npos && close_paren + 2 < content.size()) {
    std::istringstream fields(content.substr(close_paren + 2));
    std::string f[22];
    for (auto& x : f) fields >> x;
    try {
      double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      if (cpu > cpu_seconds_.Value()) cpu_seconds_.Increment(cpu - cpu_seconds_.Value());
      virtual_memory_bytes_.Set(std::stod(f[20]));
      resident_memory_bytes_.Set(std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
    } catch (const std::exception&) {
      // An unexpected /proc format leaves the previous values.
    }
  }
  open_fds_.Set(static_cast<double>(count_open_fds()));
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) max_fds_.Set(static_cast<double>(lim.rlim_cur));
}

// ---- MetricsTable ------------------------------------------------------------------------

MetricsTable::MetricsTable(Metrics& metrics, const config::Config& cfg)
    : metrics_(metrics),
      cfg_(cfg),
      baseline_model_(cfg.find_model(cfg.routing.escalate)),
      none_(make_series(metrics, kNoModel)) {
  for (const auto& m : cfg.models) models_.push_back(make_series(metrics, m.name));
}

ModelSeries& MetricsTable::series_of(const config::Model* m) const {
  if (m == nullptr || cfg_.models.empty()) return *none_;
  auto index = static_cast<std::size_t>(m - cfg_.models.data());
  return index < models_.size() ? *models_[index] : *none_;
}

prometheus::Counter& MetricsTable::requests_counter(ModelSeries& s, Route route, bool routed,
                                                    unsigned status,
                                                    const std::string& model) const {
  std::size_t r = routed ? static_cast<std::size_t>(route) : kRoutes - 1;
  std::size_t code = status < kStatusCodes ? status : 0;
  auto& slot = s.requests[r][code];
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {  // first request with this label set: Family::Add once, then cached
    c = &metrics_.requests.Add(
        {{"model", model}, {"route", std::string(kRouteNames[r])}, {"code", std::to_string(code)}});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

void MetricsTable::record(const RequestTrace& t) const {
  const config::Model* answered = t.answered;
  ModelSeries& answer_series = series_of(answered);
  requests_counter(answer_series, t.route, answered != nullptr, t.status,
                   answered ? answered->name : std::string(kNoModel))
      .Increment();
  if (answered) {
    answer_series.stage[static_cast<std::size_t>(Stage::total)]->Observe(
        seconds_between(t.received, t.finished));
  }
  if (t.leg_count > 0 && is_set(t.legs[0].prepared)) {
    series_of(t.legs[0].model)
        .stage[static_cast<std::size_t>(Stage::prep)]
        ->Observe(seconds_between(t.received, t.legs[0].prepared));
  }
  if ((t.route == Route::escalated || t.route == Route::fallback) && !t.reason.empty()) {
    metrics_.escalation(t.reason).Increment();
  }
  if (!t.would_escalate.empty()) metrics_.would_escalate_for(t.would_escalate).Increment();

  const UpstreamLeg* answering = t.answering_leg();
  for (int i = 0; i < t.leg_count; ++i) {
    const UpstreamLeg& leg = t.legs[i];
    ModelSeries& s = series_of(leg.model);
    if (is_set(leg.sent)) {
      s.stage[static_cast<std::size_t>(Stage::upstream_send)]->Observe(
          seconds_between(leg.prepared, leg.sent));
    }
    if (is_set(leg.first_token)) {
      s.stage[static_cast<std::size_t>(Stage::first_token)]->Observe(
          seconds_between(t.received, leg.first_token));
      if (is_set(leg.done)) {
        s.stage[static_cast<std::size_t>(Stage::completion)]->Observe(
            seconds_between(leg.first_token, leg.done));
      }
    }
    std::string_view error = leg.error;
    if (error.empty() && leg.status >= 400) error = leg.status >= 500 ? "http_5xx" : "http_4xx";
    if (!error.empty()) {
      auto k = error_kind_index(error);
      if (k < kUpstreamErrorKinds.size()) s.upstream_errors[k]->Increment();
    }
    if (!leg.model || leg.status < 200 || leg.status > 299) continue;

    // Tokens: the upstream's usage, else an estimate that says so.
    if (!leg.usage_reported && !is_set(leg.first_token)) continue;  // nothing generated
    LegTokens tokens = tokens_of(leg, t.prompt_chars);
    if (tokens.estimated) metrics_.token_estimates.Increment();
    const std::uint64_t prompt = tokens.prompt, completion = tokens.completion;
    s.prompt_tokens->Increment(static_cast<double>(prompt));
    s.completion_tokens->Increment(static_cast<double>(completion));
    double generation_seconds = seconds_between(leg.sent, leg.done);
    s.cost_usd->Increment(call_cost_usd(leg.model->price, prompt, completion, generation_seconds));
    if (&leg == answering && baseline_model_) {
      metrics_.baseline_cost.Increment(
          call_cost_usd(baseline_model_->price, prompt, completion, generation_seconds));
    }
  }
}

}  // namespace gw
