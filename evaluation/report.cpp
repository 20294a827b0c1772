#include "evaluation/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "evaluation/cli_args.hpp"
#include "evaluation/html_escape.hpp"
#include "evaluation/outcome.hpp"
#include "policies/logprob_summary.hpp"

namespace gw::eval {
namespace {

constexpr double kDaysPerMonth = 30;
constexpr double kDaysPerYear = 365;
const std::vector<std::string> kArmOrder = {"draft", "escalate", "auto", "auto_refine"};

json opt(std::optional<double> v) {
  return v ? json(*v) : json(nullptr);
}

json percentiles(std::vector<double> v) {
  if (v.empty()) return {{"n", 0}, {"p50", nullptr}, {"p95", nullptr}};
  return {{"n", v.size()},
          {"p50", opt(policies::nearest_rank_percentile(v, 50))},
          {"p95", opt(policies::nearest_rank_percentile(v, 95))}};
}

std::optional<double> mean(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Disjoint latency segments of one answer, for the stacked bars. A streamed answer's
// Server-Timing is sent with its head, before the answer is known: its first-token and total
// times are the client's; the server's prep and draft (the hold window) stay.
std::vector<std::pair<std::string, double>> segments(const json& arm) {
  std::vector<std::pair<std::string, double>> out;
  const json t = arm.value("timings_ms", json::object());
  auto at = [&](const char* k) { return number_at(t, k); };
  const double prep = at("prep").value_or(0);
  if (arm.value("stream", false)) {
    const auto ttft = at("client_ttft");
    const auto total = at("client_total");
    if (!ttft || !total) return out;
    out.emplace_back("prep", prep);
    double before = prep;
    if (auto draft = at("draft")) {
      out.emplace_back("draft", *draft);
      before += *draft;
    }
    out.emplace_back("first_token", std::max(0.0, *ttft - before));
    out.emplace_back("generation", std::max(0.0, *total - *ttft));
    return out;
  }
  const auto total = at("total");
  if (!total) return out;
  out.emplace_back("prep", prep);
  if (auto draft = at("draft")) {
    out.emplace_back("draft", *draft);
    const double esc = at("escalation").value_or(0);
    out.emplace_back("escalation", esc);
    out.emplace_back("other", std::max(0.0, *total - prep - *draft - esc));
  } else if (auto esc = at("escalation")) {
    out.emplace_back("escalation", *esc);
    out.emplace_back("other", std::max(0.0, *total - prep - *esc));
  } else {
    const double ttft = at("ttft").value_or(*total);
    out.emplace_back("first_token", std::max(0.0, ttft - prep));
    out.emplace_back("generation", std::max(0.0, *total - std::max(ttft, prep)));
  }
  return out;
}

// "auto:escalated", with "-before-draft" when a before_draft rule sent it straight up.
std::string route_key(const std::string& arm_name, const json& arm) {
  const std::string route = string_at(arm, "route");
  const std::string reason = string_at(arm, "reason");
  const bool before = reason == "prompt_chars_over" || reason == "match";
  return arm_name + ":" + (route.empty() ? "?" : route) + (before ? "-before-draft" : "");
}

}  // namespace

json summarize(const std::vector<json>& input, const ReportOptions& o) {
  std::vector<const json*> rows;
  std::unordered_map<std::string, size_t> index;
  for (const json& row : input) {
    const std::string id = string_at(row, "id");
    if (auto it = index.find(id); it != index.end()) {
      rows[it->second] = &row;
    } else {
      index.emplace(id, rows.size());
      rows.push_back(&row);
    }
  }
  json s = {{"schema", kSummarySchema},
            {"source", o.source},
            {"rows", rows.size()},
            {"requests_per_day", o.requests_per_day}};
  bool simulated = false;
  std::vector<std::string> arm_names;
  for (const std::string& a : kArmOrder) {
    for (const json* r : rows) {
      if (find_arm(*r, a)) {
        arm_names.push_back(a);
        break;
      }
    }
  }
  json arms = json::object();
  json latency = json::object();
  for (const std::string& name : arm_names) {
    size_t n = 0, errors = 0, checked = 0, correct = 0, judged = 0, unparsed = 0;
    std::vector<double> scores, rubric, coh, fac, con, prompt_t, completion_t, costs, total_ms,
        ttft_ms;
    std::map<std::string, size_t> routes, reasons;
    std::map<std::string, std::map<std::string, std::vector<double>>> stages;  // route -> stage
    std::map<std::string, std::vector<std::pair<std::string, double>>> stack_order;
    for (const json* r : rows) {
      const json* arm = find_arm(*r, name);
      if (!arm) continue;
      ++n;
      simulated = simulated || arm->value("simulated", false);
      if (!arm->value("error", json(nullptr)).is_null()) {
        ++errors;
      }
      const json q = arm->value("quality", json::object());
      if (q.is_object()) {
        if (q.contains("correct") && q["correct"].is_boolean()) {
          ++checked;
          correct += q["correct"].get<bool>();
        }
        if (auto sc = number_at(q, "score")) scores.push_back(*sc);
        if (q.contains("rubric")) {
          if (q["rubric"].is_object()) {
            ++judged;
            rubric.push_back(q["rubric"].value("score", 0.0));
            coh.push_back(q["rubric"].value("coherence", 0.0));
            fac.push_back(q["rubric"].value("factuality", 0.0));
            con.push_back(q["rubric"].value("conciseness", 0.0));
          } else if (q["rubric"] == "unparsed") {
            ++unparsed;
          }
        }
      }
      if (!arm->value("error", json(nullptr)).is_null()) continue;
      const json usage = arm->value("usage", json::object());
      if (auto p = number_at(usage, "prompt_tokens")) prompt_t.push_back(*p);
      if (auto c = number_at(usage, "completion_tokens")) completion_t.push_back(*c);
      if (auto c = number_at(*arm, "cost_usd")) costs.push_back(*c);
      const json t = arm->value("timings_ms", json::object());
      if (auto v = number_at(t, "client_total")) total_ms.push_back(*v);
      if (auto v = number_at(t, "client_ttft")) ttft_ms.push_back(*v);
      const std::string route = string_at(*arm, "route");
      routes[route.empty() ? "unknown" : route]++;
      if (const std::string reason = string_at(*arm, "reason"); !reason.empty()) reasons[reason]++;
      const std::string key = route_key(name, *arm);
      for (const auto& [stage, ms] : segments(*arm)) stages[key][stage].push_back(ms);
      for (const char* raw : {"prep", "upstream", "ttft", "draft", "escalation", "total"}) {
        if (auto v = number_at(t, raw)) stages[key][std::string("server_") + raw].push_back(*v);
      }
      if (stack_order[key].empty()) stack_order[key] = segments(*arm);
    }
    json a = {{"n", n}, {"errors", errors}};
    a["quality"] = {
        {"auto",
         {{"checked", checked},
          {"correct", correct},
          {"accuracy", checked ? json(static_cast<double>(correct) / static_cast<double>(checked))
                               : json(nullptr)}}},
        {"rubric",
         {{"judged", judged},
          {"unparsed", unparsed},
          {"score_mean", opt(mean(rubric))},
          {"coherence_mean", opt(mean(coh))},
          {"factuality_mean", opt(mean(fac))},
          {"conciseness_mean", opt(mean(con))}}},
        {"score_mean", opt(mean(scores))},
        {"scored", scores.size()}};
    double cost_sum = 0;
    for (double c : costs) cost_sum += c;
    a["tokens"] = {{"prompt_mean", opt(mean(prompt_t))},
                   {"completion_mean", opt(mean(completion_t))}};
    a["cost"] = {
        {"costed", costs.size()},
        {"total_usd", costs.empty() ? json(nullptr) : json(cost_sum)},
        {"per_1k_usd", costs.empty() ? json(nullptr)
                                     : json(cost_sum / static_cast<double>(costs.size()) * 1000)}};
    a["latency_ms"] = {{"client_total", percentiles(total_ms)},
                       {"client_ttft", percentiles(ttft_ms)}};
    a["routes"] = routes;
    a["reasons"] = reasons;
    const size_t answered = n - errors;
    const size_t escalated = routes.contains("escalated") ? routes["escalated"] : 0;
    a["escalation_rate"] =
        (name == "auto" || name == "auto_refine") && answered
            ? json(static_cast<double>(escalated) / static_cast<double>(answered))
            : json(nullptr);
    arms[name] = std::move(a);
    for (auto& [key, by_stage] : stages) {
      json st = json::object();
      for (auto& [stage, values] : by_stage) st[stage] = percentiles(values);
      json order = json::array();
      for (const auto& [stage, ms] : stack_order[key]) order.push_back(stage);
      latency[key] = {
          {"arm", name}, {"n", by_stage.begin()->second.size()}, {"stages", st}, {"stack", order}};
    }
  }
  s["simulated"] = simulated;
  s["arms"] = arms;
  s["latency_by_route"] = latency;

  // Token deltas: the same items answered by the small and the large model.
  {
    std::vector<double> d_prompt, d_completion;
    for (const json* r : rows) {
      const json* d = find_arm(*r, "draft");
      const json* e = find_arm(*r, "escalate");
      if (!d || !e) continue;
      auto dc = number_at((*d).value("usage", json::object()), "completion_tokens");
      auto ec = number_at((*e).value("usage", json::object()), "completion_tokens");
      auto dp = number_at((*d).value("usage", json::object()), "prompt_tokens");
      auto ep = number_at((*e).value("usage", json::object()), "prompt_tokens");
      if (dc && ec) d_completion.push_back(*ec - *dc);
      if (dp && ep) d_prompt.push_back(*ep - *dp);
    }
    s["token_deltas"] = {{"pairs", d_completion.size()},
                         {"completion_large_minus_small_mean", opt(mean(d_completion))},
                         {"prompt_large_minus_small_mean", opt(mean(d_prompt))}};
  }

  // Cost: all-large baseline = the escalate arm; savings of the routed arms against it.
  json cost = {{"baseline_arm", "escalate"}};
  const json base =
      arms.contains("escalate") ? arms["escalate"]["cost"]["per_1k_usd"] : json(nullptr);
  cost["baseline_per_1k_usd"] = base;
  json per1k = json::object(), savings = json::object(), tco = json::object();
  const double n_day = static_cast<double>(o.requests_per_day);
  for (const std::string& name : arm_names) {
    const json v = arms[name]["cost"]["per_1k_usd"];
    per1k[name] = v;
    if (v.is_number() && base.is_number() && base.get<double>() > 0) {
      savings[name] = {{"per_1k_usd", base.get<double>() - v.get<double>()},
                       {"pct", 100.0 * (1 - v.get<double>() / base.get<double>())}};
    }
    if (v.is_number()) {
      const double day = v.get<double>() * n_day / 1000;
      tco[name] = {{"per_day_usd", day},
                   {"per_month_usd", day * kDaysPerMonth},
                   {"per_year_usd", day * kDaysPerYear}};
    }
  }
  cost["per_1k_usd"] = per1k;
  cost["savings_vs_baseline"] = savings;
  s["cost"] = cost;
  s["tco"] = {
      {"requests_per_day", o.requests_per_day}, {"days_per_month", kDaysPerMonth}, {"by_arm", tco}};

  // The worst accepted drafts: auto answered by the draft, lowest quality score first.
  std::vector<json> worst;
  for (const json* r : rows) {
    const json* a = find_arm(*r, "auto");
    if (!a || string_at(*a, "route") != "draft") continue;
    const json q = a->value("quality", json::object());
    auto score = number_at(q, "score");
    if (!score) continue;
    const json* d = find_arm(*r, "draft");
    json lp = d ? d->value("logprobs", json(nullptr)) : json(nullptr);
    json w = {{"id", string_at(*r, "id")},
              {"domain", string_at(*r, "domain")},
              {"score", *score},
              {"correct", q.value("correct", json(nullptr))},
              {"checks", q.value("checks", json(nullptr))},
              {"mean_logprob", lp.is_object() ? lp.value("mean", json(nullptr)) : json(nullptr)}};
    if (o.show_text) w["text"] = a->value("text", json(nullptr));
    worst.push_back(std::move(w));
  }
  // Lowest score first; among equals, the most confident draft first (the rules' blind spot).
  std::stable_sort(worst.begin(), worst.end(), [](const json& x, const json& y) {
    if (x["score"] != y["score"]) return x["score"].get<double>() < y["score"].get<double>();
    const double lx = x["mean_logprob"].is_number() ? x["mean_logprob"].get<double>() : -1e300;
    const double ly = y["mean_logprob"].is_number() ? y["mean_logprob"].get<double>() : -1e300;
    return lx > ly;
  });
  if (worst.size() > kWorstDrafts) worst.resize(kWorstDrafts);
  s["worst_accepted_drafts"] = worst;
  s["show_text"] = o.show_text;
  return s;
}

namespace {

std::string fmt(const json& v, const char* f = "%.3g") {
  if (!v.is_number()) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v.get<double>());
  return buf;
}
std::string pct(const json& v) {
  if (!v.is_number()) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
  return buf;
}
std::string usd(const json& v) {
  if (!v.is_number()) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", v.get<double>());
  return buf;
}

std::string header_note(const json& s) {
  std::string out = std::to_string(s["rows"].get<size_t>()) + " items from " +
                    s["source"].get<std::string>() + ". ";
  if (s["simulated"].get<bool>()) {
    out +=
        "SIMULATED UPSTREAMS: the answers came from llm-sim, whose accuracy and latency are "
        "configured, not measured. The figures demonstrate the pipeline, not real models.";
  } else {
    out += "Answers from the real upstream models behind the gateway.";
  }
  return out;
}

// Table rows shared by Markdown and HTML: {header, rows}.
struct Table {
  std::vector<std::string> head;
  std::vector<std::vector<std::string>> rows;
};

Table quality_table(const json& s) {
  Table t{{"arm", "answers", "errors", "auto-checked", "correct", "accuracy", "rubric judged",
           "unparsed", "rubric score", "coherence", "factuality", "conciseness"},
          {}};
  for (auto& [name, a] : s["arms"].items()) {
    const json& q = a["quality"];
    t.rows.push_back(
        {name, std::to_string(a["n"].get<size_t>()), std::to_string(a["errors"].get<size_t>()),
         std::to_string(q["auto"]["checked"].get<size_t>()),
         std::to_string(q["auto"]["correct"].get<size_t>()), pct(q["auto"]["accuracy"]),
         std::to_string(q["rubric"]["judged"].get<size_t>()),
         std::to_string(q["rubric"]["unparsed"].get<size_t>()), fmt(q["rubric"]["score_mean"]),
         fmt(q["rubric"]["coherence_mean"]), fmt(q["rubric"]["factuality_mean"]),
         fmt(q["rubric"]["conciseness_mean"])});
  }
  return t;
}

Table routing_table(const json& s) {
  Table t{{"arm", "escalation rate", "routes", "reasons"}, {}};
  for (auto& [name, a] : s["arms"].items()) {
    if (a["escalation_rate"].is_null()) continue;
    std::string routes, reasons;
    for (auto& [k, v] : a["routes"].items())
      routes += k + "=" + std::to_string(v.get<size_t>()) + " ";
    for (auto& [k, v] : a["reasons"].items())
      reasons += k + "=" + std::to_string(v.get<size_t>()) + " ";
    t.rows.push_back({name, pct(a["escalation_rate"]), routes, reasons.empty() ? "–" : reasons});
  }
  return t;
}

Table latency_table(const json& s) {
  Table t{{"arm:route", "n", "stage", "p50 ms", "p95 ms"}, {}};
  for (auto& [key, l] : s["latency_by_route"].items()) {
    for (auto& [stage, p] : l["stages"].items()) {
      if (stage.starts_with("server_")) continue;  // raw Server-Timing: in summary.json
      t.rows.push_back({key, std::to_string(l["n"].get<size_t>()), stage, fmt(p["p50"], "%.1f"),
                        fmt(p["p95"], "%.1f")});
    }
  }
  return t;
}

Table cost_table(const json& s) {
  Table t{
      {"arm", "cost / 1,000 requests", "savings vs all-large", "per day", "per month", "per year"},
      {}};
  for (auto& [name, v] : s["cost"]["per_1k_usd"].items()) {
    const json sav = s["cost"]["savings_vs_baseline"].value(name, json(nullptr));
    const json tco = s["tco"]["by_arm"].value(name, json(nullptr));
    t.rows.push_back(
        {name, usd(v),
         sav.is_object() ? usd(sav["per_1k_usd"]) + " (" + fmt(sav["pct"], "%.1f") + "%)" : "–",
         tco.is_object() ? usd(tco["per_day_usd"]) : "–",
         tco.is_object() ? usd(tco["per_month_usd"]) : "–",
         tco.is_object() ? usd(tco["per_year_usd"]) : "–"});
  }
  return t;
}

Table worst_table(const json& s) {
  Table t{{"id", "domain", "score", "draft mean logprob", "failed checks"}, {}};
  if (s["show_text"].get<bool>()) t.head.push_back("answer");
  for (const json& w : s["worst_accepted_drafts"]) {
    std::string failed;
    if (w["checks"].is_object()) {
      for (auto& [k, v] : w["checks"].items()) {
        if (v.is_object() && v.contains("pass") && !v["pass"].get<bool>()) failed += k + " ";
        if (k == "truncated" && v == true) failed += "truncated ";
      }
    }
    std::vector<std::string> row{w["id"].get<std::string>(), w["domain"].get<std::string>(),
                                 fmt(w["score"]), fmt(w["mean_logprob"]),
                                 failed.empty() ? "–" : failed};
    if (s["show_text"].get<bool>())
      row.push_back(w.value("text", json("")).is_string() ? w["text"].get<std::string>() : "");
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string md_table(const Table& t) {
  auto cell = [](std::string v) {
    for (char& c : v)
      if (c == '|' || c == '\n') c = ' ';
    return v;
  };
  std::string out = "|";
  for (const auto& h : t.head) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < t.head.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : t.rows) {
    out += "|";
    for (const auto& c : r) out += " " + cell(c) + " |";
    out += "\n";
  }
  return out;
}

std::string html_table(const Table& t) {
  std::string out = "<table><thead><tr>";
  for (const auto& h : t.head) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& r : t.rows) {
    out += "<tr>";
    for (const auto& c : r) out += "<td>" + html_escape(c) + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

const char* kStageColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948"};

// Horizontal bars, one per label.
std::string bar_chart(const std::vector<std::pair<std::string, double>>& bars,
                      const std::string& unit) {
  double max = 0;
  for (auto& [l, v] : bars) max = std::max(max, v);
  if (max <= 0) max = 1;
  const int row_h = 26, label_w = 150, width = 720;
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(width) +
                    "' height='" + std::to_string(row_h * bars.size() + 10) + "' role='img'>";
  int y = 5;
  for (auto& [label, v] : bars) {
    const double w = (width - label_w - 110) * v / max;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<text x='0' y='%d' font-size='13'>%s</text><rect x='%d' y='%d' width='%.1f' "
                  "height='18' fill='#4e79a7'/><text x='%.1f' y='%d' font-size='12'>%.4g %s</text>",
                  y + 14, html_escape(label).c_str(), label_w, y, w, label_w + w + 6, y + 14, v,
                  html_escape(unit).c_str());
    svg += buf;
    y += row_h;
  }
  return svg + "</svg>";
}

std::string latency_chart(const json& s) {
  const int row_h = 30, label_w = 215, width = 760;
  double max = 0;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> rows;
  std::vector<std::string> legend;
  for (auto& [key, l] : s["latency_by_route"].items()) {
    std::vector<std::pair<std::string, double>> segs;
    double total = 0;
    for (const json& stage : l["stack"]) {
      const std::string name = stage.get<std::string>();
      const json p50 = l["stages"].value(name, json::object()).value("p50", json(nullptr));
      const double v = p50.is_number() ? p50.get<double>() : 0;
      segs.emplace_back(name, v);
      total += v;
      if (std::find(legend.begin(), legend.end(), name) == legend.end()) legend.push_back(name);
    }
    max = std::max(max, total);
    rows.emplace_back(key, std::move(segs));
  }
  if (max <= 0) max = 1;
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" + std::to_string(width) +
                    "' height='" + std::to_string(row_h * rows.size() + 40) + "' role='img'>";
  int y = 5;
  for (auto& [key, segs] : rows) {
    svg += "<text x='0' y='" + std::to_string(y + 15) + "' font-size='13'>" + html_escape(key) +
           "</text>";
    double x = label_w, total = 0;
    for (auto& [stage, v] : segs) {
      const size_t ci = std::find(legend.begin(), legend.end(), stage) - legend.begin();
      const double w = (width - label_w - 90) * v / max;
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "<rect x='%.1f' y='%d' width='%.1f' height='20' fill='%s'><title>%s p50 "
                    "%.1f ms</title></rect>",
                    x, y, w, kStageColours[ci % 6], html_escape(stage).c_str(), v);
      svg += buf;
      x += w;
      total += v;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "<text x='%.1f' y='%d' font-size='12'>%.0f ms</text>", x + 6,
                  y + 15, total);
    svg += buf;
    y += row_h;
  }
  double lx = label_w;
  for (size_t i = 0; i < legend.size(); ++i) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "<rect x='%.0f' y='%d' width='12' height='12' fill='%s'/><text x='%.0f' y='%d' "
                  "font-size='12'>%s</text>",
                  lx, y + 8, kStageColours[i % 6], lx + 16, y + 18, html_escape(legend[i]).c_str());
    svg += buf;
    lx += 30 + 8.0 * static_cast<double>(legend[i].size());
  }
  return svg + "</svg>";
}

}  // namespace

std::string render_markdown(const json& s) {
  std::string md = "# Routing evaluation\n\n" + header_note(s) + "\n\n";
  md +=
      "## Quality\n\nAutomatic checks (numbers, required phrases, refusals, truncation) and the "
      "rubric judge (1-5, hg.judge/1).\n\n" +
      md_table(quality_table(s));
  md += "\n## Escalation\n\n" + md_table(routing_table(s));
  md += "\n## Latency\n\nServer-Timing stages per arm and route, nearest-rank p50/p95 in ms.\n\n" +
        md_table(latency_table(s));
  md += "\n## Tokens\n\nMean completion tokens, large minus small on the same items: " +
        fmt(s["token_deltas"]["completion_large_minus_small_mean"]) + " over " +
        std::to_string(s["token_deltas"]["pairs"].get<size_t>()) + " items.\n";
  md +=
      "\n## Cost and TCO\n\nBaseline: every request on the large model (the escalate arm). "
      "Projection for " +
      std::to_string(s["tco"]["requests_per_day"].get<uint64_t>()) + " requests a day.\n\n" +
      md_table(cost_table(s));
  md += "\n## Worst accepted drafts\n\n" + md_table(worst_table(s));
  return md;
}

std::string render_html(const json& s) {
  std::string h =
      "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Routing "
      "evaluation</title><style>body{font-family:system-ui,sans-serif;margin:24px;max-width:"
      "1100px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid "
      "#ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}.sim{background:"
      "#fff3cd;border:1px solid #e0b400;padding:8px}.real{background:#e8f4ea;padding:8px}"
      "section{margin-bottom:24px}</style></head><body>";
  h += "<header id='header'><h1>Routing evaluation</h1><p class='" +
       std::string(s["simulated"].get<bool>() ? "sim" : "real") + "'>" +
       html_escape(header_note(s)) + "</p></header>";
  std::vector<std::pair<std::string, double>> acc, cost;
  for (auto& [name, a] : s["arms"].items()) {
    const json v = a["quality"]["score_mean"];
    if (v.is_number()) acc.emplace_back(name, v.get<double>());
    const json c = a["cost"]["per_1k_usd"];
    if (c.is_number()) cost.emplace_back(name, c.get<double>());
  }
  h += "<section id='quality'><h2>Quality</h2><p>Mean quality score per arm (automatic checks; "
       "the judge's rubric where no check applies).</p>" +
       bar_chart(acc, "") + html_table(quality_table(s)) + "</section>";
  h += "<section id='escalation'><h2>Escalation</h2>" + html_table(routing_table(s)) + "</section>";
  h += "<section id='latency'><h2>Latency</h2><p>p50 of each stage (Server-Timing), stacked, per "
       "arm and route.</p>" +
       latency_chart(s) + html_table(latency_table(s)) + "</section>";
  h += "<section id='tokens'><h2>Tokens</h2><p>Mean completion tokens, large minus small on the "
       "same items: " +
       fmt(s["token_deltas"]["completion_large_minus_small_mean"]) + " over " +
       std::to_string(s["token_deltas"]["pairs"].get<size_t>()) + " items.</p></section>";
  h += "<section id='cost'><h2>Cost and TCO</h2><p>USD per 1,000 requests; baseline = every "
       "request on the large model. Projection for " +
       std::to_string(s["tco"]["requests_per_day"].get<uint64_t>()) + " requests a day.</p>" +
       bar_chart(cost, "USD") + html_table(cost_table(s)) + "</section>";
  h += "<section id='worst'><h2>Worst accepted drafts</h2>" + html_table(worst_table(s)) +
       "</section></body></html>\n";
  return h;
}

int report_command(int argc, char** argv) {
  static constexpr const char* kUsage =
      "usage: hybrid-gateway eval report --in FILE --out-dir DIR [--requests-per-day N]\n"
      "         [--show-text]\n"
      "  writes DIR/summary.json, DIR/report.md, DIR/report.html\n";
  std::string in, dir;
  ReportOptions o;
  try {
    CliArgs args(argc, argv, 3);
    while (args.more()) {
      const std::string_view flag = args.flag();
      if (flag == "--in") {
        in = args.value();
      } else if (flag == "--out-dir") {
        dir = args.value();
      } else if (flag == "--requests-per-day") {
        o.requests_per_day = args.number(1, 1000000000000ULL);
      } else if (flag == "--show-text") {
        o.show_text = true;
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (in.empty() || dir.empty()) throw UsageError("--in and --out-dir are required");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "eval report: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    const JsonlFile file = read_jsonl(in);
    for (const auto& p : file.problems) std::fprintf(stderr, "eval report: %s\n", p.c_str());
    o.source = std::filesystem::path(in).filename().string();
    const json s = summarize(file.rows, o);
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream f(dir + "/" + name, std::ios::binary | std::ios::trunc);
      f << text;
      if (!f) throw std::runtime_error("cannot write " + dir + "/" + name);
    };
    write("summary.json", s.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write("report.md", render_markdown(s));
    write("report.html", render_html(s));
    std::fprintf(stderr, "eval report: %zu rows -> %s/{summary.json,report.md,report.html}\n",
                 file.rows.size(), dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eval report: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace gw::eval
