// The calibrate report: Markdown and a self-contained HTML page (inline SVG, no scripts or
// external assets), both drawn from the same JSON summary the command writes.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "evaluation/calibrate.hpp"
#include "evaluation/html_escape.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

std::string fmt(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

struct Point {
  double cost, quality;
  std::string label;
  std::string colour;
};

// Cost per 1k (x) against quality (y): the held-out frontier as a line, reference points.
std::string svg_chart(const json& s) {
  std::vector<Point> frontier;
  for (const auto& st : s["settings"]) {
    if (st["pareto"].get<bool>()) {
      frontier.push_back(
          {num(st["held_out"], "cost_per_1k_usd"), num(st["held_out"], "quality"), "", ""});
    }
  }
  std::sort(frontier.begin(), frontier.end(),
            [](const Point& a, const Point& b) { return a.cost < b.cost; });
  std::vector<Point> marks;
  const json& h = s["held_out"];
  marks.push_back({num(h["small_only"], "cost_per_1k_usd"), num(h["small_only"], "quality"),
                   "small only", "#2b8a3e"});
  marks.push_back({num(h["large_only"], "cost_per_1k_usd"), num(h["large_only"], "quality"),
                   "large only", "#c92a2a"});
  marks.push_back(
      {num(h["oracle"], "cost_per_1k_usd"), num(h["oracle"], "quality"), "oracle", "#5f3dc4"});
  if (!s["chosen"].is_null()) {
    const json& c = s["chosen"];
    marks.push_back({num(c["random_control"], "cost_per_1k_usd"),
                     num(c["random_control"], "quality"), "random, same rate", "#868e96"});
    marks.push_back({num(c["held_out"], "cost_per_1k_usd"), num(c["held_out"], "quality"), "chosen",
                     "#1864ab"});
  }
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto* v : {&frontier, &marks}) {
    for (const auto& p : *v) {
      x0 = std::min(x0, p.cost), x1 = std::max(x1, p.cost);
      y0 = std::min(y0, p.quality), y1 = std::max(y1, p.quality);
    }
  }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  const double W = 640, H = 400, L = 70, R = 20, T = 20, B = 50;
  const auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
  const auto Y = [&](double v) { return H - B - (v - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" role=\"img\" aria-label=\"cost per 1,000 requests against quality\">";
  o << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"white\"/>";
  o << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B
    << "\" stroke=\"black\"/><line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\""
    << H - B << "\" stroke=\"black\"/>";
  o << "<text x=\"" << (W / 2) << "\" y=\"" << H - 10
    << "\" text-anchor=\"middle\" font-size=\"12\">cost per 1,000 requests (USD, held-out)</text>";
  o << "<text x=\"14\" y=\"" << H / 2 << "\" font-size=\"12\" transform=\"rotate(-90 14 " << H / 2
    << ")\" text-anchor=\"middle\">quality</text>";
  o << "<text x=\"" << L << "\" y=\"" << H - B + 15 << "\" font-size=\"10\">" << fmt(x0, 4)
    << "</text><text x=\"" << W - R << "\" y=\"" << H - B + 15
    << "\" font-size=\"10\" text-anchor=\"end\">" << fmt(x1, 4) << "</text>";
  o << "<text x=\"" << L - 4 << "\" y=\"" << H - B << "\" font-size=\"10\" text-anchor=\"end\">"
    << fmt(y0, 3) << "</text><text x=\"" << L - 4 << "\" y=\"" << T + 8
    << "\" font-size=\"10\" text-anchor=\"end\">" << fmt(y1, 3) << "</text>";
  if (!frontier.empty()) {
    o << "<polyline fill=\"none\" stroke=\"#1864ab\" stroke-width=\"2\" points=\"";
    for (const auto& p : frontier) o << fmt(X(p.cost), 1) << "," << fmt(Y(p.quality), 1) << " ";
    o << "\"/>";
  }
  int row = 0;
  for (const auto& p : marks) {
    o << "<circle cx=\"" << fmt(X(p.cost), 1) << "\" cy=\"" << fmt(Y(p.quality), 1)
      << "\" r=\"5\" fill=\"" << p.colour << "\"><title>" << p.label << "</title></circle>";
    o << "<text x=\"" << W - R - 130 << "\" y=\"" << H - B - 70 + 14 * row
      << "\" font-size=\"11\" fill=\"" << p.colour << "\">&#9679; " << p.label << "</text>";
    ++row;
  }
  o << "</svg>";
  return o.str();
}

std::string figures_table(const json& s) {
  std::ostringstream o;
  o << "| | escalation | cost / 1k (USD) | quality | gap recovered | bad accepts | needless "
       "escalations |\n"
       "|---|---|---|---|---|---|---|\n";
  const auto row = [&](const std::string& name, const json& f) {
    o << "| " << name << " | " << fmt(num(f, "escalation_rate")) << " | "
      << fmt(num(f, "cost_per_1k_usd"), 6) << " | " << fmt(num(f, "quality")) << " | "
      << fmt(num(f, "gap_recovered")) << " | " << fmt(num(f, "bad_accept_rate")) << " | "
      << fmt(num(f, "needless_escalation_rate")) << " |\n";
  };
  row("small only", s["held_out"]["small_only"]);
  row("large only", s["held_out"]["large_only"]);
  row("oracle", s["held_out"]["oracle"]);
  if (!s["chosen"].is_null()) {
    row("**chosen**", s["chosen"]["held_out"]);
    const json& rc = s["chosen"]["random_control"];
    o << "| random at the same rate (expected) | " << fmt(num(rc, "escalation_rate")) << " | "
      << fmt(num(rc, "cost_per_1k_usd"), 6) << " | " << fmt(num(rc, "quality")) << " | | | |\n";
  }
  return o.str();
}

}  // namespace

std::string calibration_markdown(const json& s, const std::string& snippet) {
  std::ostringstream o;
  o << "# Calibration report\n\n";
  o << "Input `" << s["input"]["path"].get<std::string>() << "` (sha256 `"
    << s["input"]["sha256"].get<std::string>() << "`), " << s["input"]["rows"] << " rows: train "
    << s["split"]["train"] << ", held-out " << s["split"]["held_out"] << " (seed "
    << s["split"]["seed"] << ").";
  o << (s["stream"].get<bool>() ? " Streamed requests (held prefix judged and paid for).\n\n"
                                : " Non-streamed requests.\n\n");
  o << "Target: " << s["target"]["kind"].get<std::string>() << " " << s["target"]["value"]
    << ". Settings tried: " << s["settings"].size() << ".\n\n";
  o << "## Held-out figures\n\n" << figures_table(s) << "\n";
  if (!s["chosen"].is_null()) {
    const json& c = s["chosen"];
    const json& ci = c["intervals_95"];
    o << "Chosen setting: `" << c["knobs"].dump() << "`. Bootstrap 95% intervals ("
      << ci["resamples"] << " resamples): escalation ["
      << fmt(ci["escalation_rate"][0].get<double>()) << ", "
      << fmt(ci["escalation_rate"][1].get<double>()) << "], cost/1k ["
      << fmt(ci["cost_per_1k_usd"][0].get<double>(), 6) << ", "
      << fmt(ci["cost_per_1k_usd"][1].get<double>(), 6) << "], quality ["
      << fmt(ci["quality"][0].get<double>()) << ", " << fmt(ci["quality"][1].get<double>())
      << "]. Bad-accept rate " << fmt(num(c["held_out"], "bad_accept_rate")) << ", one-sided "
      << fmt(num(c, "bad_accept_confidence") * 100, 0) << "% Wilson upper bound "
      << fmt(num(c, "bad_accept_upper")) << ".\n\n";
  } else {
    o << "**No setting met the target on the train split.**\n\n";
  }
  o << "## RouteLLM-comparable figures (all rows, each rule alone)\n\n"
       "| rule | APGR | CPT(50%) | CPT(80%) | APGR (cost axis) | CPT(50%) cost | CPT(80%) cost |\n"
       "|---|---|---|---|---|---|---|\n";
  for (const auto& c : s["curves"]) {
    o << "| " << c["rule"].get<std::string>() << " | " << fmt(num(c, "apgr")) << " | "
      << fmt(num(c, "cpt50"), 2) << "% | " << fmt(num(c, "cpt80"), 2) << "% | "
      << fmt(num(c, "apgr_cost")) << " | " << fmt(num(c, "cpt50_cost"), 2) << "% | "
      << fmt(num(c, "cpt80_cost"), 2) << "% |\n";
  }
  o << "| random (expected) | 0.5000 | 50.00% | 80.00% | | | |\n\n";
  o << "CPT on the escalation axis is the share of requests escalated; on the cost axis, cost as "
       "a percentage of sending every request to the large model (drafts of escalated requests "
       "included).\n\n";
  o << "## YAML for `routing:`\n\n```yaml\n" << snippet << "```\n";
  return o.str();
}

std::string calibration_html(const json& s, const std::string& snippet) {
  std::string md = calibration_markdown(s, snippet);
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset=\"utf-8\"><title>Calibration report</title>"
       "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}pre{background:#f4f4f4;"
       "padding:1em;overflow:auto}</style></head><body>";
  o << "<h1>Calibration report</h1>";
  o << svg_chart(s);
  o << "<pre>" << html_escape(md) << "</pre>";
  o << "</body></html>\n";
  return o.str();
}

}  // namespace gw::eval
