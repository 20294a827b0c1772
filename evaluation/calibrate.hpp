#pragma once
// `hybrid-gateway eval calibrate`: a grid over the thresholds of the configured rules (cut
// points at quantiles of the observed signal values) and stream.hold_tokens, each setting
// replayed through the gateway's policies (evaluation/replay.hpp); the Pareto frontier of cost
// against quality; the cheapest setting meeting a target chosen on a train split and reported
// on the held-out split with bootstrap intervals; a YAML snippet for `routing:`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/replay.hpp"
#include "evaluation/stats.hpp"

namespace gw::eval {

// Grid bounds: settings beyond this are not tried (the cut count is lowered until it fits).
inline constexpr std::size_t kMaxGridSettings = 4096;
inline constexpr int kDefaultCuts = 8;
inline constexpr int kDefaultBootstrapResamples = 1000;
inline constexpr int kMaxBootstrapResamples = 100000;

// The threshold rules calibrate can grid, by their YAML names.
enum class Knob {
  prompt_chars_over,
  chars_under,
  chars_over,
  mean_logprob_under,
  min_logprob_under,
  p10_logprob_under,
  first_margin_under,
};
std::string_view knob_name(Knob k);
std::optional<Knob> parse_knob(std::string_view name);
// The row's value of the signal the knob compares; nullopt when not recorded.
std::optional<double> signal_of(Knob k, const RoutedRow& row);

struct Target {
  enum class Kind { quality, escalation, budget } kind = Kind::quality;
  double value = 0.95;  // share of all-large quality / max escalation rate / USD per 1k
};

struct CalibrateOptions {
  std::vector<Knob> extra_knobs;  // gridded although off in the config
  int cuts = kDefaultCuts;
  std::vector<std::uint32_t> hold_tokens;  // streamed: tried values (empty: the config's)
  Target target;
  std::uint64_t seed = 1;
  int train_percent = 50;
  int resamples = kDefaultBootstrapResamples;
  double confidence = 0.95;  // of the bad-accept upper bound
};

// One setting of the grid.
struct Setting {
  policies::RuleSpec spec;
  std::uint32_t hold_tokens = 24;
  std::vector<std::pair<Knob, std::optional<double>>> knobs;  // nullopt = rule off
};

struct SettingResult {
  Setting setting;
  Figures train;
  Figures held_out;
  bool meets_target = false;  // on train
  bool pareto = false;        // on train
};

struct CalibrationResult {
  std::size_t n = 0, n_train = 0, n_held_out = 0;
  std::vector<Knob> knobs;
  std::vector<SettingResult> settings;
  std::optional<std::size_t> chosen;  // index into settings
  Figures all_large_held_out, all_small_held_out, oracle_held_out;
  // Held-out intervals of the chosen setting.
  Interval escalation_ci, cost_ci, quality_ci, gap_ci;
  double bad_accept_upper = 1;  // one-sided Wilson at options.confidence
  // RouteLLM-comparable figures per gridded rule (others as chosen), on all rows.
  struct RuleCurve {
    std::string rule;
    std::vector<CurvePoint> escalation_axis;  // strong share %, quality
    std::vector<CurvePoint> cost_axis;        // cost as % of all-large, quality
    RouteLlmFigures by_escalation, by_cost;
  };
  std::vector<RuleCurve> curves;
  Figures all_rows_small, all_rows_large;  // endpoints on all rows
  double random_apgr = 0.5;                // a random router's expected APGR (a straight line)
};

CalibrationResult calibrate(const std::vector<RoutedRow>& rows, const ReplayPolicy& base,
                            const CalibrateOptions& options);

// The YAML to paste under `routing:` (two-space indented sections), with provenance comments.
std::string routing_snippet(const CalibrationResult& r, const CalibrateOptions& options,
                            const std::string& input_path, const std::string& input_sha256,
                            bool stream);

nlohmann::json calibration_json(const CalibrationResult& r, const CalibrateOptions& options,
                                const std::string& input_path, const std::string& input_sha256,
                                bool stream);
std::string calibration_markdown(const nlohmann::json& summary, const std::string& snippet);
std::string calibration_html(const nlohmann::json& summary, const std::string& snippet);

// Hex SHA-256 of a file's bytes.
std::string file_sha256(const std::string& path);

int calibrate_command(int argc, char** argv);

}  // namespace gw::eval
