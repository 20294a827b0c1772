#include "evaluation/synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evaluation/cli_args.hpp"
#include "evaluation/outcome.hpp"
#include "evaluation/stats.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

// A seeded stream of uniforms and normals (splitmix64; Box-Muller).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(mix64(seed)) {}
  double uniform() {
    state_ = mix64(state_);
    return (static_cast<double>(state_ >> 11) + 0.5) * 0x1.0p-53;
  }
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

std::string words(std::size_t chars, const char* word) {
  std::string out;
  while (out.size() < chars) out += word;
  out.resize(chars);
  return out;
}

double round_to(double v, double step) {
  return std::round(v / step) * step;
}

}  // namespace

double separation_for_auroc(double auroc) {
  return std::sqrt(2.0) * normal_quantile(std::clamp(auroc, 0.5, 0.999999));
}

double signal_from_z(const std::string& s, double z) {
  if (s == "mean_logprob") return -std::exp(-0.5 * z - 1.2);
  if (s == "min_logprob") return -std::exp(-0.4 * z + 1.0);
  if (s == "p10_logprob") return -std::exp(-0.45 * z + 0.2);
  if (s == "first_margin") return std::exp(0.6 * z);
  if (s == "chars") return 200.0 * std::exp(0.4 * z);
  throw std::invalid_argument("unknown signal " + s);
}

double z_from_signal(const std::string& s, double v) {
  if (s == "mean_logprob") return -(std::log(-v) + 1.2) / 0.5;
  if (s == "min_logprob") return -(std::log(-v) - 1.0) / 0.4;
  if (s == "p10_logprob") return -(std::log(-v) - 0.2) / 0.45;
  if (s == "first_margin") return std::log(v) / 0.6;
  if (s == "chars") return std::log(v / 200.0) / 0.4;
  throw std::invalid_argument("unknown signal " + s);
}

std::vector<json> synthesize(const SynthOptions& o) {
  const double total = o.p11 + o.p10 + o.p01 + o.p00;
  if (!(total > 0) || o.p11 < 0 || o.p10 < 0 || o.p01 < 0 || o.p00 < 0) {
    throw std::invalid_argument("the 2x2 table needs non-negative cells with a positive sum");
  }
  Random rng(o.seed);
  std::vector<json> rows;
  rows.reserve(o.n);
  for (std::size_t i = 0; i < o.n; ++i) {
    // The cell, then a difficulty consistent with it (harder where fewer models are right).
    const double u = rng.uniform() * total;
    const bool small_ok = u < o.p11 + o.p10;
    const bool large_ok = u < o.p11 || (u >= o.p11 + o.p10 && u < o.p11 + o.p10 + o.p01);
    const double difficulty = rng.normal() + (small_ok ? -0.5 : 0.5) + (large_ok ? -0.5 : 0.5);
    json truth = {
        {"difficulty", difficulty}, {"small_correct", small_ok}, {"large_correct", large_ok}};
    json z_of = json::object();
    std::map<std::string, double> value;
    for (const auto& [signal, auroc] : o.auroc) {
      const double z = rng.normal() - (small_ok ? 0.0 : separation_for_auroc(auroc));
      z_of[signal] = z;
      value[signal] = signal_from_z(signal, z);
    }
    truth["z"] = z_of;
    const bool refuses = rng.uniform() < (small_ok ? o.refusal_when_right : o.refusal_when_wrong);
    truth["refusal"] = refuses;

    const auto prompt_chars =
        static_cast<std::size_t>(std::clamp(120 * std::exp(0.3 * difficulty), 10.0, 4000.0));
    const std::string prompt = words(prompt_chars, "question ");
    const auto draft_chars = static_cast<std::size_t>(
        std::clamp(value.count("chars") ? value["chars"] : 200.0, 1.0, 20000.0));
    std::string draft_text = words(draft_chars, "answer ");
    if (refuses)
      draft_text.replace(
          0, std::min<std::size_t>(draft_text.size(), 13),
          std::string("I don't know.").substr(0, std::min<std::size_t>(draft_text.size(), 13)));
    const double draft_tokens = std::max(1.0, std::round(static_cast<double>(draft_chars) / 4));
    const double large_tokens =
        std::max(1.0, std::round(o.escalate.mean_completion_tokens * std::exp(0.2 * rng.normal())));
    const double prompt_tokens = std::max(1.0, std::round(static_cast<double>(prompt_chars) / 4));
    // Summaries kept consistent: min <= p10 <= mean, rounded so that rows stay short.
    json lp = nullptr;
    if (value.count("mean_logprob")) {
      const double mean = round_to(value["mean_logprob"], 1e-6);
      const double p10 =
          std::min(mean, round_to(value.count("p10_logprob") ? value["p10_logprob"] : mean, 1e-6));
      const double mn =
          std::min(p10, round_to(value.count("min_logprob") ? value["min_logprob"] : p10, 1e-6));
      lp = {{"n", static_cast<std::uint64_t>(draft_tokens)},
            {"mean", mean},
            {"min", mn},
            {"p10", p10}};
      lp["first_margin"] =
          value.count("first_margin") ? json(round_to(value["first_margin"], 1e-6)) : json(nullptr);
    }
    const auto arm = [&](const ModelProfile& m, const std::string& text, double completion, bool ok,
                         json logprobs) {
      const double gen_ms = completion / m.tokens_per_s * 1000;
      return json{{"model", m.name},
                  {"status", 200},
                  {"error", nullptr},
                  {"text", text},
                  {"finish_reason", "stop"},
                  {"kind", "text"},
                  {"usage",
                   {{"prompt_tokens", static_cast<std::uint64_t>(prompt_tokens)},
                    {"completion_tokens", static_cast<std::uint64_t>(completion)},
                    {"estimated", false}}},
                  {"route", "direct"},
                  {"answered_by", m.name},
                  {"reason", ""},
                  {"timings_ms", {{"ttft", m.ttft_ms}, {"total", m.ttft_ms + gen_ms}}},
                  {"cost_usd", nullptr},
                  {"logprobs", std::move(logprobs)},
                  {"quality", {{"score", ok ? 1.0 : 0.0}, {"correct", ok}, {"source", "synth"}}}};
    };
    char id[32];
    std::snprintf(id, sizeof id, "synth-%07zu", i + 1);
    rows.push_back({{"schema", kOutcomeSchema},
                    {"id", id},
                    {"domain", "synth"},
                    {"tags", json::array({"synth"})},
                    {"prompt", prompt},
                    {"prompt_chars", prompt_chars},
                    {"reference", json::object()},
                    {"source", "synth"},
                    {"truth", truth},
                    {"arms",
                     {{"draft", arm(o.draft, draft_text, draft_tokens, small_ok, lp)},
                      {"escalate",
                       arm(o.escalate, words(static_cast<std::size_t>(large_tokens * 4), "better "),
                           large_tokens, large_ok, nullptr)}}}});
  }
  return rows;
}

int synth_command(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: hybrid-gateway eval synth --out ROWS.jsonl [--n N] [--seed S]\n"
      "         [--table P11,P10,P01,P00]   joint (small correct, large correct) shares\n"
      "         [--auroc SIGNAL=A,...]      mean_logprob, min_logprob, p10_logprob, first_margin, "
      "chars\n"
      "         [--refusal-when-wrong R]\n";
  try {
    SynthOptions o;
    std::string out;
    CliArgs args(argc, argv, 3);
    while (args.more()) {
      const auto flag = args.flag();
      if (flag == "--out") {
        out = args.value();
      } else if (flag == "--n") {
        o.n = args.number(1, kMaxSynthItems);
      } else if (flag == "--seed") {
        o.seed = args.number(0, UINT64_MAX);
      } else if (flag == "--table") {
        const auto cells = split_list(args.value());
        if (cells.size() != 4) throw UsageError("--table: four shares P11,P10,P01,P00");
        o.p11 = std::stod(cells[0]), o.p10 = std::stod(cells[1]);
        o.p01 = std::stod(cells[2]), o.p00 = std::stod(cells[3]);
      } else if (flag == "--auroc") {
        o.auroc.clear();
        for (const auto& kv : split_list(args.value())) {
          const auto eq = kv.find('=');
          if (eq == std::string::npos) throw UsageError("--auroc: SIGNAL=VALUE");
          const std::string name = kv.substr(0, eq);
          signal_from_z(name, 0);  // throws for an unknown signal
          o.auroc[name] = std::stod(kv.substr(eq + 1));
        }
      } else if (flag == "--refusal-when-wrong") {
        o.refusal_when_wrong = args.real();
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (out.empty()) throw UsageError("--out is required");
    write_jsonl_atomically(out, synthesize(o));
    std::printf("wrote %zu rows to %s\n", o.n, out.c_str());
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hybrid-gateway eval synth: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hybrid-gateway eval synth: %s\n", e.what());
    return 1;
  }
}

}  // namespace gw::eval
