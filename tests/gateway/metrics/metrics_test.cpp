#include "gateway/metrics/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gateway/config/load.hpp"

namespace gw {
namespace {

using Labels = std::map<std::string, std::string>;

// Two models: a cheap local draft (also charged per second of generation) and the expensive
// escalation model that the baseline is priced on.
constexpr const char* kYaml = R"(
models:
  phi:
    upstream: "http://127.0.0.1:5301/v1"
    price: { input_per_mtok: 0.10, output_per_mtok: 0.40, per_second: 0.002 }
  gpt:
    upstream: "http://127.0.0.1:5302/v1"
    price: { input_per_mtok: 0.50, output_per_mtok: 2.00 }
routing:
  draft: phi
  escalate: gpt
)";

// The same configuration after a reload that renamed the draft model.
constexpr const char* kRenamedYaml = R"(
models:
  phi-v2:
    upstream: "http://127.0.0.1:5301/v1"
    price: { input_per_mtok: 0.10, output_per_mtok: 0.40, per_second: 0.002 }
  gpt:
    upstream: "http://127.0.0.1:5302/v1"
    price: { input_per_mtok: 0.50, output_per_mtok: 2.00 }
routing:
  draft: phi-v2
  escalate: gpt
)";

config::Snapshot load_config(const char* yaml) {
  auto r = config::load_string(yaml, "t.yaml");
  for (const auto& p : r.problems) ADD_FAILURE() << p.str();
  return r.config;
}

// A mark well away from the epoch: Clock::time_point{} means "unset".
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);
Clock::time_point at_ms(int ms) {
  return kT0 + std::chrono::milliseconds(ms);
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One scrape of the registry, read the way Prometheus would see it.
class Scrape {
 public:
  explicit Scrape(const Metrics& m) : families_(m.registry->Collect()) {}

  const prometheus::MetricFamily* family(const std::string& name) const {
    for (const auto& f : families_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  // The series whose label set is exactly `labels`, or nullptr.
  const prometheus::ClientMetric* series(const std::string& name, const Labels& labels) const {
    const auto* f = family(name);
    if (!f) return nullptr;
    for (const auto& m : f->metric) {
      Labels got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got == labels) return &m;
    }
    return nullptr;
  }

  // NaN when the series is missing, so every comparison against it fails loudly.
  double counter(const std::string& name, const Labels& labels = {}) const {
    const auto* m = series(name, labels);
    return m ? m->counter.value : kNaN;
  }
  std::uint64_t hist_count(const std::string& name, const Labels& labels) const {
    const auto* m = series(name, labels);
    return m ? m->histogram.sample_count : std::numeric_limits<std::uint64_t>::max();
  }
  double hist_sum(const std::string& name, const Labels& labels) const {
    const auto* m = series(name, labels);
    return m ? m->histogram.sample_sum : kNaN;
  }
  // Number of series (label sets) in a family.
  std::size_t size(const std::string& name) const {
    const auto* f = family(name);
    return f ? f->metric.size() : 0;
  }
  // Sum of every counter in a family, whatever its labels.
  double total(const std::string& name) const {
    const auto* f = family(name);
    double sum = 0;
    if (f) {
      for (const auto& m : f->metric) sum += m.counter.value;
    }
    return sum;
  }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

constexpr double kUsdTolerance = 1e-12;
constexpr double kSecondsTolerance = 1e-9;

const char* const kRequests = "gateway_requests_total";
const char* const kStage = "gateway_stage_duration_seconds";
const char* const kTokens = "gateway_tokens_total";
const char* const kCost = "gateway_cost_usd_total";
const char* const kBaseline = "gateway_baseline_cost_usd_total";
const char* const kEscalations = "gateway_escalations_total";
const char* const kWouldEscalate = "gateway_would_escalate_total";
const char* const kUpstreamErrors = "gateway_upstream_errors_total";
const char* const kTokenEstimates = "gateway_token_estimates_total";

class MetricsTableTest : public testing::Test {
 protected:
  MetricsTableTest() : cfg_(load_config(kYaml)), table_(metrics_, *cfg_) {}

  const config::Model& phi() const { return cfg_->models.at(0); }
  const config::Model& gpt() const { return cfg_->models.at(1); }

  // phi answers directly: received 0, prepared 2, sent 5, first token 105, done 405,
  // finished 410 (ms); usage 1000 prompt + 500 completion tokens.
  RequestTrace direct_to_phi() const {
    RequestTrace t;
    t.received = at_ms(0);
    t.finished = at_ms(410);
    t.answered = &phi();
    t.route = Route::direct;
    t.status = 200;
    auto& leg = t.new_leg(phi());
    leg.prepared = at_ms(2);
    leg.sent = at_ms(5);
    leg.headers = at_ms(50);
    leg.first_token = at_ms(105);
    leg.done = at_ms(405);
    leg.prompt_tokens = 1000;
    leg.completion_tokens = 500;
    leg.usage_reported = true;
    leg.status = 200;
    return t;
  }

  Scrape scrape() const { return Scrape(metrics_); }

  Metrics metrics_;
  config::Snapshot cfg_;
  MetricsTable table_;
};

TEST_F(MetricsTableTest, ConfigLoads) {
  ASSERT_NE(cfg_, nullptr);
  ASSERT_EQ(cfg_->models.size(), 2u);
  EXPECT_EQ(phi().name, "phi");
  EXPECT_EQ(gpt().name, "gpt");
  EXPECT_EQ(cfg_->routing.escalate, "gpt");
}

TEST_F(MetricsTableTest, DirectRequestCountsOnceUnderModelRouteAndCode) {
  table_.record(direct_to_phi());
  auto s = scrape();
  EXPECT_EQ(s.counter(kRequests, {{"model", "phi"}, {"route", "direct"}, {"code", "200"}}), 1.0);
  EXPECT_EQ(s.size(kRequests), 1u);
  EXPECT_EQ(s.total(kRequests), 1.0);
}

struct StageCase {
  const char* stage;
  double seconds;
};

TEST_F(MetricsTableTest, DirectRequestObservesEachStageOnceWithItsDuration) {
  table_.record(direct_to_phi());
  auto s = scrape();
  for (const StageCase& c : {StageCase{"prep", 0.002}, StageCase{"upstream_send", 0.003},
                             StageCase{"first_token", 0.105}, StageCase{"completion", 0.300},
                             StageCase{"total", 0.410}}) {
    SCOPED_TRACE(c.stage);
    Labels l{{"stage", c.stage}, {"model", "phi"}};
    EXPECT_EQ(s.hist_count(kStage, l), 1u);
    EXPECT_NEAR(s.hist_sum(kStage, l), c.seconds, kSecondsTolerance);
    // Nothing observed under the other model.
    EXPECT_EQ(s.hist_count(kStage, {{"stage", c.stage}, {"model", "gpt"}}), 0u);
  }
}

TEST_F(MetricsTableTest, DirectRequestCountsUsageTokensCostAndBaseline) {
  table_.record(direct_to_phi());
  auto s = scrape();
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}), 1000.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "completion"}}), 500.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "prompt"}}), 0.0);
  // 1000 x 0.10/M + 500 x 0.40/M + 0.400 s (sent -> done) x 0.002/s.
  EXPECT_NEAR(s.counter(kCost, {{"model", "phi"}}), 0.0001 + 0.0002 + 0.0008, kUsdTolerance);
  EXPECT_EQ(s.counter(kCost, {{"model", "gpt"}}), 0.0);
  // The same tokens at routing.escalate's (gpt's) prices: 1000 x 0.50/M + 500 x 2.00/M.
  EXPECT_NEAR(s.counter(kBaseline), 0.0005 + 0.0010, kUsdTolerance);
  EXPECT_EQ(s.counter(kTokenEstimates), 0.0);
  EXPECT_EQ(s.total(kEscalations), 0.0);
  EXPECT_EQ(s.total(kUpstreamErrors), 0.0);
}

// phi drafts (refused), gpt answers.
RequestTrace escalated(const config::Model& draft, const config::Model& big) {
  RequestTrace t;
  t.received = at_ms(0);
  t.finished = at_ms(905);
  t.answered = &big;
  t.route = Route::escalated;
  t.reason = "refusal";
  t.status = 200;
  auto& d = t.new_leg(draft);
  d.prepared = at_ms(1);
  d.sent = at_ms(3);
  d.first_token = at_ms(50);
  d.done = at_ms(250);
  d.prompt_tokens = 200;
  d.completion_tokens = 100;
  d.usage_reported = true;
  d.status = 200;
  auto& e = t.new_leg(big);
  e.prepared = at_ms(252);
  e.sent = at_ms(260);
  e.first_token = at_ms(400);
  e.done = at_ms(900);
  e.prompt_tokens = 300;
  e.completion_tokens = 400;
  e.usage_reported = true;
  e.status = 200;
  return t;
}

TEST_F(MetricsTableTest, EscalatedRequestCountsBothLegsAndBaselinesOnlyTheAnswer) {
  table_.record(escalated(phi(), gpt()));
  auto s = scrape();
  EXPECT_EQ(s.counter(kRequests, {{"model", "gpt"}, {"route", "escalated"}, {"code", "200"}}), 1.0);
  EXPECT_EQ(s.total(kRequests), 1.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}), 200.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "completion"}}), 100.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "prompt"}}), 300.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "completion"}}), 400.0);
  // phi: 200 x 0.10/M + 100 x 0.40/M + 0.247 s x 0.002/s; gpt: 300 x 0.50/M + 400 x 2.00/M.
  EXPECT_NEAR(s.counter(kCost, {{"model", "phi"}}), 0.00002 + 0.00004 + 0.000494, kUsdTolerance);
  EXPECT_NEAR(s.counter(kCost, {{"model", "gpt"}}), 0.00015 + 0.0008, kUsdTolerance);
  // Only the answering (gpt) leg's tokens, at gpt's prices.
  EXPECT_NEAR(s.counter(kBaseline), 0.00015 + 0.0008, kUsdTolerance);
  EXPECT_EQ(s.counter(kEscalations, {{"reason", "refusal"}}), 1.0);
  EXPECT_EQ(s.total(kEscalations), 1.0);
}

TEST_F(MetricsTableTest, EscalatedRequestStagesGoToEachLegsModel) {
  table_.record(escalated(phi(), gpt()));
  auto s = scrape();
  struct Case {
    const char* stage;
    const char* model;
    std::uint64_t count;
    double seconds;
  };
  for (const Case& c :
       {Case{"prep", "phi", 1, 0.001}, Case{"prep", "gpt", 0, 0.0},
        Case{"upstream_send", "phi", 1, 0.002}, Case{"upstream_send", "gpt", 1, 0.008},
        Case{"first_token", "phi", 1, 0.050}, Case{"first_token", "gpt", 1, 0.400},
        Case{"completion", "phi", 1, 0.200}, Case{"completion", "gpt", 1, 0.500},
        Case{"total", "gpt", 1, 0.905}, Case{"total", "phi", 0, 0.0}}) {
    SCOPED_TRACE(std::string(c.stage) + " " + c.model);
    Labels l{{"stage", c.stage}, {"model", c.model}};
    EXPECT_EQ(s.hist_count(kStage, l), c.count);
    EXPECT_NEAR(s.hist_sum(kStage, l), c.seconds, kSecondsTolerance);
  }
}

TEST_F(MetricsTableTest, FallbackAfterConnectErrorCountsTheErrorAndTheEscalation) {
  RequestTrace t;
  t.received = at_ms(0);
  t.finished = at_ms(300);
  t.answered = &gpt();
  t.route = Route::fallback;
  t.reason = "upstream_error";
  t.status = 200;
  auto& d = t.new_leg(phi());
  d.prepared = at_ms(1);
  d.done = at_ms(20);
  d.status = 0;
  d.error = "connect";
  auto& e = t.new_leg(gpt());
  e.prepared = at_ms(21);
  e.sent = at_ms(25);
  e.first_token = at_ms(100);
  e.done = at_ms(290);
  e.prompt_tokens = 10;
  e.completion_tokens = 20;
  e.usage_reported = true;
  e.status = 200;
  table_.record(t);

  auto s = scrape();
  EXPECT_EQ(s.counter(kUpstreamErrors, {{"model", "phi"}, {"kind", "connect"}}), 1.0);
  EXPECT_EQ(s.total(kUpstreamErrors), 1.0);
  EXPECT_EQ(s.counter(kEscalations, {{"reason", "upstream_error"}}), 1.0);
  EXPECT_EQ(s.total(kEscalations), 1.0);
  EXPECT_EQ(s.counter(kRequests, {{"model", "gpt"}, {"route", "fallback"}, {"code", "200"}}), 1.0);
  // The failed leg generated nothing and costs nothing.
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}), 0.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "completion"}}), 0.0);
  EXPECT_EQ(s.counter(kCost, {{"model", "phi"}}), 0.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "prompt"}}), 10.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "completion"}}), 20.0);
  EXPECT_NEAR(s.counter(kBaseline), 10 * 0.5e-6 + 20 * 2e-6, kUsdTolerance);
}

struct UpstreamErrorCase {
  const char* name;
  unsigned status;
  const char* error;
  const char* kind;
};

class UpstreamErrorKind : public MetricsTableTest,
                          public testing::WithParamInterface<UpstreamErrorCase> {};

TEST_P(UpstreamErrorKind, FailedLegCountsOneErrorOfItsKindAndNoTokens) {
  const auto& c = GetParam();
  RequestTrace t = direct_to_phi();
  t.status = c.status == 0 ? 502 : c.status;
  t.legs[0].status = c.status;
  t.legs[0].error = c.error;
  table_.record(t);
  auto s = scrape();
  EXPECT_EQ(s.counter(kUpstreamErrors, {{"model", "phi"}, {"kind", c.kind}}), 1.0);
  EXPECT_EQ(s.total(kUpstreamErrors), 1.0);
  if (c.status < 200 || c.status > 299) {
    EXPECT_EQ(s.total(kTokens), 0.0);
    EXPECT_EQ(s.total(kCost), 0.0);
    EXPECT_EQ(s.counter(kBaseline), 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, UpstreamErrorKind,
    testing::Values(UpstreamErrorCase{"Http503", 503, "", "http_5xx"},
                    UpstreamErrorCase{"Http500", 500, "", "http_5xx"},
                    UpstreamErrorCase{"Http429", 429, "", "http_4xx"},
                    UpstreamErrorCase{"Http400", 400, "", "http_4xx"},
                    UpstreamErrorCase{"ConnectTimeout", 0, "connect_timeout", "connect_timeout"},
                    UpstreamErrorCase{"Timeout", 0, "timeout", "timeout"},
                    UpstreamErrorCase{"Resolve", 0, "resolve", "resolve"},
                    // The named cause wins over the status class: counted once, not twice.
                    UpstreamErrorCase{"BadResponseOn502", 502, "bad_response", "bad_response"},
                    UpstreamErrorCase{"ClosedMidStream", 200, "closed", "closed"}),
    [](const testing::TestParamInfo<UpstreamErrorCase>& info) { return info.param.name; });

TEST_F(MetricsTableTest, MissingUsageIsEstimatedAndSaysSo) {
  RequestTrace t = direct_to_phi();
  t.prompt_chars = 40;
  auto& leg = t.legs[0];
  leg.usage_reported = false;
  leg.prompt_tokens = 0;
  leg.completion_tokens = 0;
  leg.content_events = 7;
  table_.record(t);
  auto s = scrape();
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}), 10.0);  // 40 chars / 4
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "completion"}}), 7.0);
  EXPECT_EQ(s.counter(kTokenEstimates), 1.0);
  // The estimate is priced like reported usage: 10 x 0.10/M + 7 x 0.40/M + 0.400 s x 0.002/s.
  EXPECT_NEAR(s.counter(kCost, {{"model", "phi"}}), 0.000001 + 0.0000028 + 0.0008, kUsdTolerance);
}

TEST_F(MetricsTableTest, ReportedUsageIsNotAnEstimate) {
  table_.record(direct_to_phi());
  EXPECT_EQ(scrape().counter(kTokenEstimates), 0.0);
}

TEST_F(MetricsTableTest, RejectedRequestCountsUnderNone) {
  RequestTrace t;
  t.received = at_ms(0);
  t.finished = at_ms(1);
  t.status = 400;
  table_.record(t);
  auto s = scrape();
  EXPECT_EQ(s.counter(kRequests, {{"model", "none"}, {"route", "none"}, {"code", "400"}}), 1.0);
  EXPECT_EQ(s.total(kRequests), 1.0);
  EXPECT_EQ(s.total(kTokens), 0.0);
  EXPECT_EQ(s.total(kCost), 0.0);
  EXPECT_EQ(s.counter(kBaseline), 0.0);
  EXPECT_EQ(s.total(kEscalations), 0.0);
}

TEST_F(MetricsTableTest, WouldEscalateCountsItsReasonOnly) {
  RequestTrace t = direct_to_phi();
  t.route = Route::draft;
  t.would_escalate = "finish_reason_length";
  table_.record(t);
  auto s = scrape();
  EXPECT_EQ(s.counter(kWouldEscalate, {{"reason", "finish_reason_length"}}), 1.0);
  EXPECT_EQ(s.total(kWouldEscalate), 1.0);
  EXPECT_EQ(s.total(kEscalations), 0.0);  // the draft was kept: no escalation happened
  EXPECT_EQ(s.counter(kRequests, {{"model", "phi"}, {"route", "draft"}, {"code", "200"}}), 1.0);
}

struct RouteCase {
  Route route;
  unsigned status;
  const char* route_label;
  const char* code_label;
};

TEST_F(MetricsTableTest, RouteAndCodeLabels) {
  for (const RouteCase& c : {RouteCase{Route::direct, 200, "direct", "200"},
                             RouteCase{Route::draft, 200, "draft", "200"},
                             RouteCase{Route::escalated, 502, "escalated", "502"},
                             RouteCase{Route::fallback, 504, "fallback", "504"},
                             RouteCase{Route::direct, 499, "direct", "499"}}) {
    SCOPED_TRACE(std::string(c.route_label) + " " + c.code_label);
    RequestTrace t = direct_to_phi();
    t.route = c.route;
    t.status = c.status;
    const double before = scrape().counter(
        kRequests, {{"model", "phi"}, {"route", c.route_label}, {"code", c.code_label}});
    table_.record(t);
    const double after = scrape().counter(
        kRequests, {{"model", "phi"}, {"route", c.route_label}, {"code", c.code_label}});
    EXPECT_EQ(std::isnan(before) ? 0.0 : before, 0.0);
    EXPECT_EQ(after, 1.0);
  }
}

TEST_F(MetricsTableTest, SameLabelSetTwiceAddsNoSeries) {
  table_.record(direct_to_phi());
  auto first = scrape();
  table_.record(direct_to_phi());
  auto second = scrape();
  EXPECT_EQ(first.size(kRequests), 1u);
  EXPECT_EQ(second.size(kRequests), first.size(kRequests));
  for (const char* family : {kStage, kTokens, kCost, kEscalations, kUpstreamErrors}) {
    EXPECT_EQ(second.size(family), first.size(family)) << family;
  }
  EXPECT_EQ(second.counter(kRequests, {{"model", "phi"}, {"route", "direct"}, {"code", "200"}}),
            2.0);
  EXPECT_EQ(second.hist_count(kStage, {{"stage", "total"}, {"model", "phi"}}), 2u);
  EXPECT_EQ(second.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}), 2000.0);
}

TEST_F(MetricsTableTest, StatusCodesBeyondHttpRangeShareOneSeries) {
  for (unsigned status : {600u, 999u, 70000u}) {
    RequestTrace t = direct_to_phi();
    t.status = status;
    table_.record(t);
  }
  auto s = scrape();
  EXPECT_EQ(s.size(kRequests), 1u);
  EXPECT_EQ(s.counter(kRequests, {{"model", "phi"}, {"route", "direct"}, {"code", "0"}}), 3.0);
}

TEST_F(MetricsTableTest, ReloadWithRenamedModelAddsSeriesAndKeepsOldValues) {
  table_.record(direct_to_phi());
  table_.record(escalated(phi(), gpt()));
  const auto before = scrape();

  config::Snapshot reloaded = load_config(kRenamedYaml);
  ASSERT_NE(reloaded, nullptr);
  MetricsTable table2(metrics_, *reloaded);
  const config::Model& phi2 = reloaded->models.at(0);
  const config::Model& gpt2 = reloaded->models.at(1);
  ASSERT_EQ(phi2.name, "phi-v2");

  // The new name's series exist as soon as the table is built, empty.
  auto built = scrape();
  EXPECT_EQ(built.counter(kTokens, {{"model", "phi-v2"}, {"kind", "prompt"}}), 0.0);
  EXPECT_EQ(built.hist_count(kStage, {{"stage", "total"}, {"model", "phi-v2"}}), 0u);
  EXPECT_EQ(built.counter(kCost, {{"model", "phi-v2"}}), 0.0);

  RequestTrace t;
  t.received = at_ms(0);
  t.finished = at_ms(410);
  t.answered = &phi2;
  t.route = Route::direct;
  t.status = 200;
  auto& leg = t.new_leg(phi2);
  leg.prepared = at_ms(2);
  leg.sent = at_ms(5);
  leg.first_token = at_ms(105);
  leg.done = at_ms(405);
  leg.prompt_tokens = 1000;
  leg.completion_tokens = 500;
  leg.usage_reported = true;
  leg.status = 200;
  table2.record(t);
  table2.record(escalated(phi2, gpt2));

  auto s = scrape();
  EXPECT_EQ(s.counter(kRequests, {{"model", "phi-v2"}, {"route", "direct"}, {"code", "200"}}), 1.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi-v2"}, {"kind", "prompt"}}), 1200.0);
  EXPECT_EQ(s.hist_count(kStage, {{"stage", "total"}, {"model", "phi-v2"}}), 1u);
  // The old name keeps what it had.
  EXPECT_EQ(s.counter(kRequests, {{"model", "phi"}, {"route", "direct"}, {"code", "200"}}), 1.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}),
            before.counter(kTokens, {{"model", "phi"}, {"kind", "prompt"}}));
  EXPECT_EQ(s.counter(kCost, {{"model", "phi"}}), before.counter(kCost, {{"model", "phi"}}));
  EXPECT_EQ(s.hist_count(kStage, {{"stage", "total"}, {"model", "phi"}}), 1u);
  // An unchanged name is the same series in both tables: it accumulates.
  EXPECT_EQ(s.counter(kRequests, {{"model", "gpt"}, {"route", "escalated"}, {"code", "200"}}), 2.0);
  EXPECT_EQ(s.counter(kTokens, {{"model", "gpt"}, {"kind", "prompt"}}), 600.0);
  EXPECT_EQ(s.size(kRequests), 3u);
}

}  // namespace
}  // namespace gw
