#include "evaluation/calibrate.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "evaluation/cli_args.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

constexpr Knob kAllKnobs[] = {Knob::prompt_chars_over, Knob::chars_under,
                              Knob::chars_over,        Knob::mean_logprob_under,
                              Knob::min_logprob_under, Knob::p10_logprob_under,
                              Knob::first_margin_under};

bool knob_on(Knob k, const policies::RuleSpec& s) {
  switch (k) {
    case Knob::prompt_chars_over:
      return s.before_draft.prompt_chars_over > 0;
    case Knob::chars_under:
      return s.after_draft.chars_under > 0;
    case Knob::chars_over:
      return s.after_draft.chars_over > 0;
    case Knob::mean_logprob_under:
      return s.after_draft.mean_logprob_under.has_value();
    case Knob::min_logprob_under:
      return s.after_draft.min_logprob_under.has_value();
    case Knob::p10_logprob_under:
      return s.after_draft.p10_logprob_under.has_value();
    case Knob::first_margin_under:
      return s.after_draft.first_margin_under.has_value();
  }
  return false;
}

bool integer_knob(Knob k) {
  return k == Knob::prompt_chars_over || k == Knob::chars_under || k == Knob::chars_over;
}

// Sets one knob; nullopt turns the rule off. Character thresholds are whole numbers: an "under"
// cut at an observed value v escalates exactly the rows below v; an "over" cut at v those above.
void set_knob(policies::RuleSpec& s, Knob k, std::optional<double> v) {
  const auto whole = [&](double x) {
    return static_cast<std::uint64_t>(std::max(0.0, std::ceil(x)));
  };
  switch (k) {
    case Knob::prompt_chars_over:
      s.before_draft.prompt_chars_over = v ? whole(*v) : 0;
      break;
    case Knob::chars_under:
      s.after_draft.chars_under = v ? whole(*v) : 0;
      break;
    case Knob::chars_over:
      s.after_draft.chars_over = v ? whole(*v) : 0;
      break;
    case Knob::mean_logprob_under:
      s.after_draft.mean_logprob_under = v;
      break;
    case Knob::min_logprob_under:
      s.after_draft.min_logprob_under = v;
      break;
    case Knob::p10_logprob_under:
      s.after_draft.p10_logprob_under = v;
      break;
    case Knob::first_margin_under:
      s.after_draft.first_margin_under = v;
      break;
  }
}

std::vector<std::optional<double>> knob_values(Knob k, const std::vector<RoutedRow>& rows,
                                               const std::vector<bool>& train, int cuts) {
  std::vector<double> observed;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!train[i]) continue;
    if (auto v = signal_of(k, rows[i])) observed.push_back(*v);
  }
  std::vector<std::optional<double>> out{std::nullopt};
  for (double c : quantile_cuts(observed, cuts)) {
    if (integer_knob(k)) {
      c = std::ceil(c);
      if (c <= 0) continue;  // 0 means off
    } else if (k == Knob::first_margin_under) {
      if (c < 0) continue;  // the loader refuses negative margins
    } else if (c > 0) {
      c = 0;  // the loader refuses positive logprob thresholds
    }
    if (std::find(out.begin(), out.end(), std::optional<double>(c)) == out.end()) out.push_back(c);
  }
  return out;
}

Decided small_only(const RoutedRow& r, const ReplayPolicy& p) {
  Decided d;
  d.cost_usd = leg_cost_usd(r.draft, p.draft_price);
  d.quality = r.quality_draft;
  d.quality_draft = r.quality_draft;
  d.quality_escalate = r.quality_escalate;
  d.known = r.has_draft;
  return d;
}

Decided large_only(const RoutedRow& r, const ReplayPolicy& p) {
  Decided d;
  d.escalate = d.before_draft = true;
  d.reason = policies::Reason::prompt_chars_over;
  d.cost_usd = leg_cost_usd(r.escalate, p.escalate_price);
  d.quality = r.quality_escalate;
  d.quality_draft = r.quality_draft;
  d.quality_escalate = r.quality_escalate;
  d.known = r.has_draft;
  return d;
}

// Escalates exactly the drafts the large model beats: the best any after-draft rule can do.
Decided oracle(const RoutedRow& r, const ReplayPolicy& p) {
  Decided d = small_only(r, p);
  if (r.quality_draft && r.quality_escalate && *r.quality_escalate > *r.quality_draft) {
    d.escalate = true;
    d.reason = policies::Reason::none;
    d.cost_usd += leg_cost_usd(r.escalate, p.escalate_price);
    d.quality = r.quality_escalate;
  }
  return d;
}

template <class F>
Figures figures_where(const std::vector<RoutedRow>& rows, const std::vector<bool>& keep, F f) {
  std::vector<Decided> d;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (keep[i]) d.push_back(f(rows[i]));
  }
  return figures_of(d);
}

// A quality target: the cheapest setting reaching it. A cap (escalation rate or budget): the
// best quality within it ("cheapest" would always be never escalating).
bool better_choice(const Figures& a, const Figures& b, Target::Kind kind) {
  if (kind != Target::Kind::quality) {
    // Unlabelled rows (a decision log): spend the cap on the rules' own judgement, i.e. the
    // setting that escalates the most within it.
    if (a.labelled == 0 && b.labelled == 0 && a.escalation_rate != b.escalation_rate) {
      return a.escalation_rate > b.escalation_rate;
    }
    if (a.quality != b.quality) return a.quality > b.quality;
    return a.cost_per_1k_usd < b.cost_per_1k_usd;
  }
  if (a.cost_per_1k_usd != b.cost_per_1k_usd) return a.cost_per_1k_usd < b.cost_per_1k_usd;
  if (a.quality != b.quality) return a.quality > b.quality;
  return a.escalation_rate < b.escalation_rate;
}

bool meets(const Figures& f, const Target& t) {
  switch (t.kind) {
    case Target::Kind::quality:
      return f.labelled > 0 && f.quality >= t.value * f.quality_escalate;
    case Target::Kind::escalation:
      return f.escalation_rate <= t.value;
    case Target::Kind::budget:
      return f.cost_per_1k_usd <= t.value;
  }
  return false;
}

std::string number(double v, int digits = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string yaml_string(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);  // a JSON string is YAML
}

std::string yaml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += yaml_string(items[i]);
  }
  return out + "]";
}

}  // namespace

std::string_view knob_name(Knob k) {
  switch (k) {
    case Knob::prompt_chars_over:
      return "prompt_chars_over";
    case Knob::chars_under:
      return "chars_under";
    case Knob::chars_over:
      return "chars_over";
    case Knob::mean_logprob_under:
      return "mean_logprob_under";
    case Knob::min_logprob_under:
      return "min_logprob_under";
    case Knob::p10_logprob_under:
      return "p10_logprob_under";
    case Knob::first_margin_under:
      return "first_margin_under";
  }
  return "";
}

std::optional<Knob> parse_knob(std::string_view name) {
  for (Knob k : kAllKnobs) {
    if (knob_name(k) == name) return k;
  }
  return std::nullopt;
}

std::optional<double> signal_of(Knob k, const RoutedRow& r) {
  switch (k) {
    case Knob::prompt_chars_over:
      return static_cast<double>(r.prompt_chars);
    case Knob::chars_under:
    case Knob::chars_over:
      if (!r.has_draft) return std::nullopt;
      return static_cast<double>(r.draft_chars);
    case Knob::mean_logprob_under:
      return r.logprobs.mean;
    case Knob::min_logprob_under:
      return r.logprobs.min;
    case Knob::p10_logprob_under:
      return r.logprobs.p10;
    case Knob::first_margin_under:
      return r.logprobs.first_margin;
  }
  return std::nullopt;
}

CalibrationResult calibrate(const std::vector<RoutedRow>& rows, const ReplayPolicy& base,
                            const CalibrateOptions& o) {
  CalibrationResult r;
  r.n = rows.size();
  std::vector<bool> train(rows.size()), held(rows.size()), all(rows.size(), true);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    train[i] = hash_id(rows[i].id, o.seed) % 100 < static_cast<std::uint64_t>(o.train_percent);
    held[i] = !train[i];
    (train[i] ? r.n_train : r.n_held_out)++;
  }
  for (Knob k : kAllKnobs) {
    const bool extra =
        std::find(o.extra_knobs.begin(), o.extra_knobs.end(), k) != o.extra_knobs.end();
    if (knob_on(k, base.spec) || extra) r.knobs.push_back(k);
  }
  std::vector<std::uint32_t> holds = o.hold_tokens;
  if (holds.empty() || !base.stream) holds = {base.hold_tokens};

  // The grid, with fewer cut points until it fits.
  std::vector<std::vector<std::optional<double>>> values;
  for (int cuts = std::max(2, o.cuts);; --cuts) {
    values.clear();
    std::size_t product = holds.size();
    for (Knob k : r.knobs) {
      values.push_back(knob_values(k, rows, train, cuts));
      product *= values.back().size();
    }
    if (product <= kMaxGridSettings || cuts <= 2) break;
  }
  std::vector<std::size_t> index(r.knobs.size(), 0);
  for (;;) {
    for (std::uint32_t hold : holds) {
      SettingResult s;
      s.setting.spec = base.spec;
      s.setting.hold_tokens = hold;
      for (std::size_t j = 0; j < r.knobs.size(); ++j) {
        set_knob(s.setting.spec, r.knobs[j], values[j][index[j]]);
        s.setting.knobs.emplace_back(r.knobs[j], values[j][index[j]]);
      }
      ReplayPolicy p = base;
      p.spec = s.setting.spec;
      p.hold_tokens = hold;
      const Replayer replayer(p);
      std::vector<Decided> tr, ho;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        (train[i] ? tr : ho).push_back(replayer.decide(rows[i]));
      }
      s.train = figures_of(tr);
      s.held_out = figures_of(ho);
      s.meets_target = meets(s.train, o.target);
      r.settings.push_back(std::move(s));
      if (r.settings.size() >= kMaxGridSettings) break;
    }
    std::size_t j = 0;
    while (j < index.size() && ++index[j] == values[j].size()) index[j++] = 0;
    if (j == index.size() || r.settings.size() >= kMaxGridSettings) break;
  }

  // Pareto frontier on train: no other setting is as cheap and as good, and better in one.
  for (auto& s : r.settings) {
    s.pareto = std::none_of(r.settings.begin(), r.settings.end(), [&](const SettingResult& t) {
      const bool as_good =
          t.train.cost_per_1k_usd <= s.train.cost_per_1k_usd && t.train.quality >= s.train.quality;
      const bool better =
          t.train.cost_per_1k_usd < s.train.cost_per_1k_usd || t.train.quality > s.train.quality;
      return as_good && better;
    });
  }
  for (std::size_t i = 0; i < r.settings.size(); ++i) {
    if (!r.settings[i].meets_target) continue;
    if (!r.chosen ||
        better_choice(r.settings[i].train, r.settings[*r.chosen].train, o.target.kind)) {
      r.chosen = i;
    }
  }

  r.all_small_held_out =
      figures_where(rows, held, [&](const RoutedRow& x) { return small_only(x, base); });
  r.all_large_held_out =
      figures_where(rows, held, [&](const RoutedRow& x) { return large_only(x, base); });
  r.oracle_held_out =
      figures_where(rows, held, [&](const RoutedRow& x) { return oracle(x, base); });
  r.all_rows_small =
      figures_where(rows, all, [&](const RoutedRow& x) { return small_only(x, base); });
  r.all_rows_large =
      figures_where(rows, all, [&](const RoutedRow& x) { return large_only(x, base); });

  if (r.chosen) {
    ReplayPolicy p = base;
    p.spec = r.settings[*r.chosen].setting.spec;
    p.hold_tokens = r.settings[*r.chosen].setting.hold_tokens;
    const Replayer replayer(p);
    std::vector<Decided> ho;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (held[i]) ho.push_back(replayer.decide(rows[i]));
    }
    const auto stat = [&](auto pick) {
      return bootstrap_interval(ho.size(), o.resamples, o.seed ^ 0xb007, [&](const auto& counts) {
        std::vector<std::uint32_t> w(counts.begin(), counts.end());
        return pick(figures_of(ho, w));
      });
    };
    r.escalation_ci = stat([](const Figures& f) { return f.escalation_rate; });
    r.cost_ci = stat([](const Figures& f) { return f.cost_per_1k_usd; });
    r.quality_ci = stat([](const Figures& f) { return f.quality; });
    r.gap_ci = stat([](const Figures& f) { return f.gap_recovered; });
    const Figures& f = r.settings[*r.chosen].held_out;
    r.bad_accept_upper =
        wilson_upper(static_cast<std::uint64_t>(std::llround(f.bad_accepts)),
                     static_cast<std::uint64_t>(std::llround(f.labelled)), o.confidence);
  }

  // RouteLLM-comparable curves: each gridded rule alone (every other threshold rule off), its
  // cut points swept, on all rows; the endpoints are small-only (0%) and large-only (100%).
  const double large_cost = r.all_rows_large.cost_per_1k_usd;
  for (std::size_t j = 0; j < r.knobs.size(); ++j) {
    CalibrationResult::RuleCurve c;
    c.rule = std::string(knob_name(r.knobs[j]));
    const auto add = [&](const Figures& f) {
      c.escalation_axis.push_back({f.escalation_rate * 100, f.quality});
      c.cost_axis.push_back({large_cost > 0 ? f.cost_per_1k_usd / large_cost * 100 : 0, f.quality});
    };
    add(r.all_rows_small);
    add(r.all_rows_large);
    for (const auto& v : values[j]) {
      if (!v) continue;
      ReplayPolicy p = base;
      for (Knob k : r.knobs) set_knob(p.spec, k, std::nullopt);
      set_knob(p.spec, r.knobs[j], v);
      const Replayer replayer(p);
      std::vector<Decided> d;
      d.reserve(rows.size());
      for (const auto& row : rows) d.push_back(replayer.decide(row));
      add(figures_of(d));
    }
    c.by_escalation =
        routellm_figures(c.escalation_axis, r.all_rows_small.quality, r.all_rows_large.quality);
    c.by_cost = routellm_figures(c.cost_axis, r.all_rows_small.quality, r.all_rows_large.quality);
    r.curves.push_back(std::move(c));
  }
  return r;
}

std::string routing_snippet(const CalibrationResult& r, const CalibrateOptions& o,
                            const std::string& input_path, const std::string& sha, bool stream) {
  std::ostringstream y;
  y << "# Calibrated by `hybrid-gateway eval calibrate`: paste under `routing:`, replacing its\n"
       "# before_draft, after_draft and stream.hold_tokens, then reload (SIGHUP).\n";
  y << "# input: " << input_path << " sha256:" << sha << "\n";
  y << "# rows: " << r.n << " (train " << r.n_train << ", held-out " << r.n_held_out
    << "; split by id hash, seed " << o.seed << ", train " << o.train_percent << "%)\n";
  if (!r.chosen) {
    y << "# NO SETTING MET THE TARGET on the train split: the snippet is the input config's "
         "rules.\n";
  }
  const char* kind = o.target.kind == Target::Kind::quality      ? "quality >= share of all-large"
                     : o.target.kind == Target::Kind::escalation ? "escalation rate <="
                                                                 : "cost per 1k requests (USD) <=";
  y << "# target: " << kind << " " << number(o.target.value) << (stream ? " (streamed)" : "")
    << "\n";
  const SettingResult* s = r.chosen ? &r.settings[*r.chosen] : nullptr;
  if (s) {
    const Figures& f = s->held_out;
    y << "# held-out: escalation " << number(f.escalation_rate, 4) << " ["
      << number(r.escalation_ci.low, 4) << ", " << number(r.escalation_ci.high, 4) << "], cost/1k $"
      << number(f.cost_per_1k_usd, 4) << " [" << number(r.cost_ci.low, 4) << ", "
      << number(r.cost_ci.high, 4) << "]\n";
    y << "# held-out: quality " << number(f.quality, 4) << " [" << number(r.quality_ci.low, 4)
      << ", " << number(r.quality_ci.high, 4) << "] (all-large "
      << number(r.all_large_held_out.quality, 4) << ", small-only "
      << number(r.all_small_held_out.quality, 4) << "), bad-accept rate "
      << number(f.bad_accept_rate, 4) << " (<= " << number(r.bad_accept_upper, 4) << " one-sided "
      << number(o.confidence * 100, 3) << "% Wilson)\n";
  }
  const policies::RuleSpec spec = s ? s->setting.spec : policies::RuleSpec{};
  const std::uint32_t hold = s ? s->setting.hold_tokens : 0;
  y << "  before_draft:\n";
  y << "    prompt_chars_over: " << spec.before_draft.prompt_chars_over << "\n";
  y << "    match: " << yaml_list(spec.before_draft.match) << "\n";
  const auto& a = spec.after_draft;
  y << "  after_draft:\n";
  y << "    chars_under: " << a.chars_under << "\n";
  y << "    chars_over: " << a.chars_over << "\n";
  y << "    finish_reason_length: " << (a.finish_reason_length ? "true" : "false") << "\n";
  y << "    refusal: " << yaml_list(a.refusal) << "\n";
  const auto opt = [&](const char* key, const std::optional<double>& v) {
    if (v) y << "    " << key << ": " << number(*v, 17) << "\n";
  };
  opt("mean_logprob_under", a.mean_logprob_under);
  opt("min_logprob_under", a.min_logprob_under);
  opt("p10_logprob_under", a.p10_logprob_under);
  opt("first_margin_under", a.first_margin_under);
  if (a.invalid_tool_call) y << "    invalid_tool_call: true\n";
  if (a.invalid_json) y << "    invalid_json: true\n";
  if (s) y << "  stream:\n    hold_tokens: " << hold << "\n";
  return y.str();
}

namespace {

json figures_json(const Figures& f) {
  return {{"n", f.n},
          {"labelled", f.labelled},
          {"escalation_rate", f.escalation_rate},
          {"before_draft_rate", f.before_draft_rate},
          {"cost_per_1k_usd", f.cost_per_1k_usd},
          {"quality", f.quality},
          {"quality_small_only", f.quality_draft},
          {"quality_large_only", f.quality_escalate},
          {"quality_oracle", f.quality_oracle},
          {"gap_recovered", f.gap_recovered},
          {"bad_accept_rate", f.bad_accept_rate},
          {"needless_escalation_rate", f.needless_escalation_rate},
          {"bad_accepts", f.bad_accepts},
          {"needless_escalations", f.needless_escalations},
          {"reasons", f.reasons}};
}

json knobs_json(const Setting& s) {
  json k = json::object();
  for (const auto& [knob, v] : s.knobs) {
    k[std::string(knob_name(knob))] = v ? json(*v) : json(nullptr);
  }
  k["hold_tokens"] = s.hold_tokens;
  return k;
}

json points_json(const std::vector<CurvePoint>& pts) {
  json a = json::array();
  for (const auto& p : pts) a.push_back({p.strong_percent, p.quality});
  return a;
}

}  // namespace

json calibration_json(const CalibrationResult& r, const CalibrateOptions& o,
                      const std::string& input_path, const std::string& sha, bool stream) {
  json j;
  j["schema"] = "hg.calibration/1";
  j["input"] = {{"path", input_path}, {"sha256", sha}, {"rows", r.n}};
  j["split"] = {{"seed", o.seed},
                {"train_percent", o.train_percent},
                {"train", r.n_train},
                {"held_out", r.n_held_out},
                {"method", "fnv1a(id) mixed with seed, mod 100"}};
  j["stream"] = stream;
  j["target"] = {{"kind", o.target.kind == Target::Kind::quality      ? "quality"
                          : o.target.kind == Target::Kind::escalation ? "escalation"
                                                                      : "budget_usd_per_1k"},
                 {"value", o.target.value}};
  j["knobs"] = json::array();
  for (Knob k : r.knobs) j["knobs"].push_back(knob_name(k));
  json settings = json::array();
  for (std::size_t i = 0; i < r.settings.size(); ++i) {
    const auto& s = r.settings[i];
    settings.push_back({{"index", i},
                        {"knobs", knobs_json(s.setting)},
                        {"train", figures_json(s.train)},
                        {"held_out", figures_json(s.held_out)},
                        {"meets_target", s.meets_target},
                        {"pareto", s.pareto}});
  }
  j["settings"] = settings;
  j["held_out"] = {{"small_only", figures_json(r.all_small_held_out)},
                   {"large_only", figures_json(r.all_large_held_out)},
                   {"oracle", figures_json(r.oracle_held_out)}};
  if (r.chosen) {
    const auto& s = r.settings[*r.chosen];
    const Figures& f = s.held_out;
    const double gap = r.all_large_held_out.quality - r.all_small_held_out.quality;
    // A router escalating at random at the same rate, in expectation: the quality line
    // between small-only and large-only, and every draft paid for.
    const double rate = f.escalation_rate;
    j["chosen"] = {{"index", *r.chosen},
                   {"knobs", knobs_json(s.setting)},
                   {"train", figures_json(s.train)},
                   {"held_out", figures_json(f)},
                   {"intervals_95",
                    {{"escalation_rate", {r.escalation_ci.low, r.escalation_ci.high}},
                     {"cost_per_1k_usd", {r.cost_ci.low, r.cost_ci.high}},
                     {"quality", {r.quality_ci.low, r.quality_ci.high}},
                     {"gap_recovered", {r.gap_ci.low, r.gap_ci.high}},
                     {"method", "percentile bootstrap over held-out rows"},
                     {"resamples", o.resamples}}},
                   {"bad_accept_upper", r.bad_accept_upper},
                   {"bad_accept_upper_method", "one-sided Wilson score"},
                   {"bad_accept_confidence", o.confidence},
                   {"random_control",
                    {{"escalation_rate", rate},
                     {"quality", r.all_small_held_out.quality + rate * gap},
                     {"cost_per_1k_usd", r.all_small_held_out.cost_per_1k_usd +
                                             rate * r.all_large_held_out.cost_per_1k_usd}}}};
  } else {
    j["chosen"] = nullptr;
  }
  // The oracle on held-out rows: escalates exactly the drafts the large model beats.
  j["curves"] = json::array();
  for (const auto& c : r.curves) {
    j["curves"].push_back({{"rule", c.rule},
                           {"escalation_axis", points_json(c.escalation_axis)},
                           {"cost_axis", points_json(c.cost_axis)},
                           {"apgr", c.by_escalation.apgr},
                           {"cpt50", c.by_escalation.cpt50},
                           {"cpt80", c.by_escalation.cpt80},
                           {"apgr_cost", c.by_cost.apgr},
                           {"cpt50_cost", c.by_cost.cpt50},
                           {"cpt80_cost", c.by_cost.cpt80}});
  }
  j["all_rows"] = {{"small_only", figures_json(r.all_rows_small)},
                   {"large_only", figures_json(r.all_rows_large)},
                   {"random_apgr", 0.5},
                   {"random_cpt50", 50.0},
                   {"random_cpt80", 80.0}};
  return j;
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buf, static_cast<std::size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", md[i]);
    hex += h;
  }
  return hex;
}

}  // namespace gw::eval
