// `hybrid-gateway eval calibrate`: flags, then calibrate() and the four output files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "evaluation/calibrate.hpp"
#include "evaluation/cli_args.hpp"

namespace gw::eval {
namespace {

constexpr const char* kUsage =
    "usage: hybrid-gateway eval calibrate --input ROWS.jsonl --config FILE --out DIR\n"
    "         [--target-quality 0.95 | --target-escalation 0.3 | --budget-usd-per-1k X]\n"
    "         [--grid RULE,...] [--cuts N] [--stream] [--hold-tokens N,...] [--seed N]\n"
    "         [--train-percent P] [--resamples N]\n"
    "  ROWS: hg.outcome/1 or hg.decision/1 lines. The thresholds of the config's threshold rules\n"
    "  (and --grid RULE, e.g. chars_under) are tried at quantile cut points of the observed\n"
    "  values; the cheapest setting meeting the target on the train split is reported on the\n"
    "  held-out split. Writes DIR/calibration.{md,html,json} and DIR/routing.yaml.\n";

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
}

}  // namespace

int calibrate_command(int argc, char** argv) {
  std::string input, config_path, out_dir;
  CalibrateOptions o;
  bool stream = false;
  try {
    CliArgs args(argc, argv, 3);
    while (args.more()) {
      const auto flag = args.flag();
      if (flag == "--input" || flag == "--in") {
        input = args.value();
      } else if (flag == "--config") {
        config_path = args.value();
      } else if (flag == "--out") {
        out_dir = args.value();
      } else if (flag == "--target-quality") {
        o.target = {Target::Kind::quality, args.real()};
      } else if (flag == "--target-escalation") {
        o.target = {Target::Kind::escalation, args.real()};
      } else if (flag == "--budget-usd-per-1k") {
        o.target = {Target::Kind::budget, args.real()};
      } else if (flag == "--grid") {
        for (const auto& name : split_list(args.value())) {
          auto k = parse_knob(name);
          if (!k) throw UsageError("--grid: unknown threshold rule '" + name + "'");
          o.extra_knobs.push_back(*k);
        }
      } else if (flag == "--cuts") {
        o.cuts = static_cast<int>(args.number(2, 64));
      } else if (flag == "--stream") {
        stream = true;
      } else if (flag == "--hold-tokens") {
        for (const auto& v : split_list(args.value())) {
          o.hold_tokens.push_back(static_cast<std::uint32_t>(std::stoul(v)));
        }
      } else if (flag == "--seed") {
        o.seed = args.number(0, UINT64_MAX);
      } else if (flag == "--train-percent") {
        o.train_percent = static_cast<int>(args.number(1, 99));
      } else if (flag == "--resamples") {
        o.resamples = static_cast<int>(args.number(0, kMaxBootstrapResamples));
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (input.empty() || config_path.empty() || out_dir.empty()) {
      throw UsageError("--input, --config and --out are required");
    }
    const ReplayPolicy base = policy_from_config_file(config_path, stream);
    std::vector<std::string> problems;
    const auto rows = read_routed_rows(input, problems);
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (rows.empty()) throw std::runtime_error(input + ": no usable rows\n");
    const CalibrationResult r = calibrate(rows, base, o);
    if (o.target.kind == Target::Kind::quality && r.all_rows_large.labelled == 0) {
      throw std::runtime_error(
          "no row has quality labels for both models: use --target-escalation or "
          "--budget-usd-per-1k\n");
    }
    const std::string sha = file_sha256(input);
    const std::string snippet = routing_snippet(r, o, input, sha, stream);
    const auto summary = calibration_json(r, o, input, sha, stream);
    std::filesystem::create_directories(out_dir);
    const std::filesystem::path dir(out_dir);
    write_file(dir / "routing.yaml", snippet);
    write_file(dir / "calibration.json", summary.dump(1) + "\n");
    write_file(dir / "calibration.md", calibration_markdown(summary, snippet));
    write_file(dir / "calibration.html", calibration_html(summary, snippet));
    std::fputs(snippet.c_str(), stdout);
    if (!r.chosen) {
      std::fprintf(stderr, "hybrid-gateway eval calibrate: no setting met the target\n");
      return 3;
    }
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hybrid-gateway eval calibrate: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hybrid-gateway eval calibrate: %s", e.what());
    return 1;
  }
}

}  // namespace gw::eval
