#pragma once
// `hybrid-gateway eval synth`: seeded hg.outcome/1 sets with a known answer, for testing
// calibrate. Each item gets a latent difficulty, a joint correctness cell of the small and
// large models drawn from a 2x2 table, and signals drawn conditionally on the small model's
// correctness with a chosen separability (AUROC) per signal:
//   z ~ N(0, 1) when the draft is correct, N(-delta, 1) when wrong, delta = sqrt(2) Phi^-1(AUROC)
// (so P(z_correct > z_wrong) = AUROC exactly), then mapped monotonically onto each signal's
// scale (see signal_from_z()). Token counts and latencies come from two model profiles.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gw::eval {

struct ModelProfile {
  std::string name;
  double ttft_ms = 50;
  double tokens_per_s = 100;
  double mean_completion_tokens = 60;
};

struct SynthOptions {
  std::size_t n = 1000;
  std::uint64_t seed = 1;
  // P(small correct, large correct), P(small only), P(large only), P(neither); normalised.
  double p11 = 0.6, p10 = 0.05, p01 = 0.25, p00 = 0.1;
  // Target AUROC of each signal for "draft correct" (0.5 = no information). Signals:
  // mean_logprob, min_logprob, p10_logprob, first_margin, chars.
  std::map<std::string, double> auroc = {{"mean_logprob", 0.75},
                                         {"min_logprob", 0.7},
                                         {"p10_logprob", 0.7},
                                         {"first_margin", 0.65},
                                         {"chars", 0.6}};
  double refusal_when_wrong = 0.1;  // share of wrong drafts that say "I don't know"
  double refusal_when_right = 0.01;
  ModelProfile draft{"phi-4-mini", 40, 120, 60};
  ModelProfile escalate{"gpt-oss-20b", 150, 60, 80};
};

inline constexpr std::size_t kMaxSynthItems = 10'000'000;

// The signal scales: all increasing in z, so a threshold on the signal is one on z.
double signal_from_z(const std::string& signal, double z);
double z_from_signal(const std::string& signal, double value);
// delta for a target AUROC.
double separation_for_auroc(double auroc);

std::vector<nlohmann::json> synthesize(const SynthOptions& options);

int synth_command(int argc, char** argv);

}  // namespace gw::eval
