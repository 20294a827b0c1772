#include "evaluation/replay.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evaluation/cli_args.hpp"
#include "evaluation/outcome.hpp"
#include "gateway/config/load.hpp"
#include "gateway/config/rule_spec.hpp"
#include "policies/before_draft.hpp"
#include "policies/judge.hpp"
#include "policies/prompt.hpp"

namespace gw::eval {
namespace {

policies::Rules compile_or_throw(policies::RuleSpec spec) {
  auto compiled = policies::Rules::compile(std::move(spec));
  if (auto* errors = std::get_if<std::vector<policies::RuleError>>(&compiled)) {
    throw std::invalid_argument("routing rules do not compile: " + errors->front().describe());
  }
  return std::get<policies::Rules>(std::move(compiled));
}

policies::RuleSpec without_refusal(policies::RuleSpec spec) {
  spec.after_draft.refusal.clear();
  return spec;
}

// The first `keep` of `total` parts of a text, cut on a UTF-8 boundary.
std::string prefix_share(const std::string& text, double keep, double total) {
  if (total <= 0 || keep >= total) return text;
  auto bytes = static_cast<std::size_t>(static_cast<double>(text.size()) * keep / total);
  while (bytes > 0 && bytes < text.size() &&
         (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) {
    --bytes;
  }
  return text.substr(0, bytes);
}

}  // namespace

Replayer::Replayer(ReplayPolicy policy)
    : policy_(std::move(policy)),
      rules_(compile_or_throw(policy_.spec)),
      rules_without_refusal_(compile_or_throw(without_refusal(policy_.spec))) {}

Decided Replayer::decide(const RoutedRow& row) const {
  Decided d;
  d.quality_draft = row.quality_draft;
  d.quality_escalate = row.quality_escalate;
  const double large_cost = leg_cost_usd(row.escalate, policy_.escalate_price);

  policies::PromptStats prompt;
  prompt.text = row.prompt;
  prompt.chars = row.prompt_chars;
  const policies::Verdict before = policies::before_draft(rules_, prompt);
  if (before.escalate) {
    d.escalate = d.before_draft = true;
    d.reason = before.reason;
    d.cost_usd = large_cost;
    d.quality = row.quality_escalate;
    return d;
  }
  if (!row.has_draft) {
    d.known = false;
    return d;
  }

  // Streams: the judge sees the first hold_tokens tokens unless the draft ended within them.
  const std::optional<double> completion = row.draft.completion_tokens;
  const bool complete = !policy_.stream || !completion || *completion <= policy_.hold_tokens;
  const bool text_known = row.draft_text.has_value();
  std::string text = text_known ? *row.draft_text : std::string(row.draft_chars, 'x');
  if (!complete) text = prefix_share(text, policy_.hold_tokens, *completion);
  // A prefix is judged on the logprobs of that prefix: exactly those the gateway recorded when
  // it held the same number of tokens; otherwise the whole draft's summary stands in for them.
  const bool recorded_prefix =
      !complete && row.held_logprobs &&
      row.held_logprobs->n == static_cast<std::uint64_t>(policy_.hold_tokens);
  const policies::LogprobSummary& summary = recorded_prefix ? *row.held_logprobs : row.logprobs;
  const std::vector<double> logprobs = logprobs_with_summary(summary);
  policies::Draft draft{text, complete ? std::string_view(row.finish_reason) : std::string_view{},
                        logprobs, complete};
  draft.first_margin = summary.first_margin;
  policies::Verdict verdict = policies::judge(text_known ? rules_ : rules_without_refusal_, draft);
  if (!text_known && row.refusal_matched.value_or(false) &&
      !policy_.spec.after_draft.refusal.empty()) {
    // The gateway's own match, recorded in the decision log: refusal ranks after
    // finish_reason_length only.
    const bool length_first =
        verdict.escalate && verdict.reason == policies::Reason::finish_reason_length;
    if (!length_first) verdict = policies::Verdict::escalate_for(policies::Reason::refusal);
  }
  const double draft_cost =
      leg_cost_usd(row.draft, policy_.draft_price,
                   complete ? std::nullopt : std::optional<double>(policy_.hold_tokens));
  d.escalate = verdict.escalate;
  d.reason = verdict.reason;
  d.cost_usd =
      verdict.escalate ? draft_cost + large_cost : leg_cost_usd(row.draft, policy_.draft_price);
  d.quality = verdict.escalate ? row.quality_escalate : row.quality_draft;
  return d;
}

Figures figures_of(const std::vector<Decided>& decided, const std::vector<std::uint32_t>& weights) {
  Figures f;
  double escalated = 0, before = 0, cost = 0, q = 0, qd = 0, ql = 0, qo = 0;
  for (std::size_t i = 0; i < decided.size(); ++i) {
    const Decided& d = decided[i];
    const double w = weights.empty() ? 1.0 : weights[i];
    if (!d.known || w == 0) continue;
    f.n += w;
    if (d.escalate) {
      escalated += w;
      f.reasons[std::string(policies::to_string(d.reason))] += w;
    }
    if (d.before_draft) before += w;
    cost += w * d.cost_usd;
    if (d.quality_draft && d.quality_escalate && d.quality) {
      f.labelled += w;
      q += w * *d.quality;
      qd += w * *d.quality_draft;
      ql += w * *d.quality_escalate;
      qo += w * std::max(*d.quality_draft, *d.quality_escalate);
      if (!d.escalate && *d.quality_draft < *d.quality_escalate) f.bad_accepts += w;
      if (d.escalate && !d.before_draft && *d.quality_draft >= *d.quality_escalate) {
        f.needless_escalations += w;
      }
      if (d.before_draft && *d.quality_draft >= *d.quality_escalate) f.needless_escalations += w;
    }
  }
  if (f.n > 0) {
    f.escalation_rate = escalated / f.n;
    f.before_draft_rate = before / f.n;
    f.cost_per_1k_usd = cost / f.n * 1000;
  }
  if (f.labelled > 0) {
    f.quality = q / f.labelled;
    f.quality_draft = qd / f.labelled;
    f.quality_escalate = ql / f.labelled;
    f.quality_oracle = qo / f.labelled;
    const double gap = f.quality_escalate - f.quality_draft;
    f.gap_recovered = gap != 0 ? (f.quality - f.quality_draft) / gap : 0;
    f.bad_accept_rate = f.bad_accepts / f.labelled;
    f.needless_escalation_rate = f.needless_escalations / f.labelled;
  }
  return f;
}

std::vector<RoutedRow> read_routed_rows(const std::string& path,
                                        std::vector<std::string>& problems) {
  JsonlFile file = read_jsonl(path);
  problems = file.problems;
  std::vector<RoutedRow> rows;
  rows.reserve(file.rows.size());
  for (std::size_t i = 0; i < file.rows.size(); ++i) {
    // Shadow comparisons (routing.shadow) share the decision log; they are not routed rows.
    if (string_at(file.rows[i], "schema") == "hg.shadow/1") continue;
    std::string why;
    if (auto r = read_routed_row(file.rows[i], why)) {
      if (r->id.empty()) r->id = "row-" + std::to_string(i + 1);
      rows.push_back(std::move(*r));
    } else {
      problems.push_back(path + ": row " + std::to_string(i + 1) + " skipped: " + why);
    }
  }
  return rows;
}

ReplayPolicy policy_from_config_file(const std::string& path, bool stream) {
  auto loaded = config::load_file(path);
  if (!loaded.config) {
    std::string text;
    for (const auto& p : loaded.problems) text += p.str() + "\n";
    throw std::runtime_error(text.empty() ? path + ": cannot load" : text);
  }
  const config::Config& c = *loaded.config;
  ReplayPolicy p;
  p.spec = config::rule_spec_of(c.routing);
  if (const auto* m = c.find_model(c.routing.draft)) p.draft_price = m->price;
  if (const auto* m = c.find_model(c.routing.escalate)) p.escalate_price = m->price;
  p.stream = stream;
  p.hold_tokens = c.routing.hold_tokens;
  return p;
}

namespace {

void print_figures(std::FILE* out, const Figures& f) {
  std::fprintf(out, "requests: %.0f (with both quality labels: %.0f)\n", f.n, f.labelled);
  std::fprintf(out, "escalated: %.4f (before drafting: %.4f)\n", f.escalation_rate,
               f.before_draft_rate);
  std::fprintf(out, "cost per 1,000 requests: $%.6f\n", f.cost_per_1k_usd);
  for (const auto& [reason, count] : f.reasons) {
    std::fprintf(out, "  reason %-22s %.0f\n", reason.c_str(), count);
  }
  if (f.labelled > 0) {
    std::fprintf(out,
                 "quality: %.4f (small only %.4f, large only %.4f, oracle %.4f); kept %.4f of "
                 "all-large; gap recovered %.4f\n",
                 f.quality, f.quality_draft, f.quality_escalate, f.quality_oracle,
                 f.quality_escalate > 0 ? f.quality / f.quality_escalate : 0.0, f.gap_recovered);
    std::fprintf(out, "bad accepts: %.4f, needless escalations: %.4f\n", f.bad_accept_rate,
                 f.needless_escalation_rate);
  }
}

}  // namespace

int replay_command(int argc, char** argv) {
  std::string input, config_path, json_out;
  bool stream = false;
  try {
    CliArgs args(argc, argv, 3);
    while (args.more()) {
      const auto flag = args.flag();
      if (flag == "--input" || flag == "--in") {
        input = args.value();
      } else if (flag == "--config") {
        config_path = args.value();
      } else if (flag == "--stream") {
        stream = true;
      } else if (flag == "--json") {
        json_out = args.value();
      } else if (flag == "--help" || flag == "-h") {
        std::puts(
            "usage: hybrid-gateway eval replay --input ROWS.jsonl --config FILE [--stream] "
            "[--json OUT]\n  ROWS: hg.outcome/1 or hg.decision/1 lines; --stream judges the "
            "held prefix (stream.hold_tokens) as a streamed request would");
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (input.empty() || config_path.empty()) throw UsageError("--input and --config are required");
    const ReplayPolicy policy = policy_from_config_file(config_path, stream);
    std::vector<std::string> problems;
    const auto rows = read_routed_rows(input, problems);
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    const Replayer replayer(policy);
    std::vector<Decided> decided;
    std::size_t unknown = 0;
    nlohmann::json per_row = nlohmann::json::array();
    for (const auto& r : rows) {
      decided.push_back(replayer.decide(r));
      const Decided& d = decided.back();
      if (!d.known) ++unknown;
      per_row.push_back({{"id", r.id},
                         {"known", d.known},
                         {"route", d.escalate ? "escalated" : "draft"},
                         {"reason", d.escalate ? policies::to_string(d.reason) : ""},
                         {"cost_usd", d.cost_usd}});
    }
    const Figures f = figures_of(decided);
    print_figures(stdout, f);
    if (unknown) std::printf("undecidable (no draft recorded): %zu\n", unknown);
    if (!json_out.empty()) {
      nlohmann::json j = {{"requests", f.n},
                          {"labelled", f.labelled},
                          {"escalation_rate", f.escalation_rate},
                          {"cost_per_1k_usd", f.cost_per_1k_usd},
                          {"quality", f.quality},
                          {"reasons", f.reasons},
                          {"undecidable", unknown},
                          {"rows", per_row}};
      std::FILE* out = std::fopen(json_out.c_str(), "w");
      if (!out) throw std::runtime_error("cannot write " + json_out);
      const std::string text = j.dump(1);
      std::fwrite(text.data(), 1, text.size(), out);
      std::fclose(out);
    }
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hybrid-gateway eval replay: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hybrid-gateway eval replay: %s", e.what());
    return 1;
  }
}

}  // namespace gw::eval
