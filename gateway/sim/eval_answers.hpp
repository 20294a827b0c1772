#pragma once
// Plausible answers to the built-in question set (eval/questions.jsonl, compiled in), so
// `hybrid-gateway eval` is a meaningful demonstration offline. The simulator is handed the
// answer key at build time; nothing travels in the request: a prompt that is not one of the
// set's items gets the usual generated prose. Each model is right on a seeded `accuracy`
// share of the items, and its token logprobs are lower when it is wrong (mostly), as a real
// model's confidence would be. Also answers the rubric judge's and the pairwise prompts
// (hg.judge/1, hg.pair/1) with strict JSON. Pure: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::sim {

struct EvalAnswer {
  std::string text;
  double logprob = -0.2;  // every token's
};

// Logprobs: right answers are confident; most wrong ones are not.
inline constexpr double kConfidentLogprob = -0.15;
inline constexpr double kUnsureLogprob = -1.9;
inline constexpr double kWrongButSureShare = 0.3;  // wrong answers given with confidence
inline constexpr double kRightButUnsureShare = 0.1;

// nullopt when `last_user_text` is neither an item of the built-in set nor a judge prompt.
std::optional<EvalAnswer> eval_answer(std::string_view last_user_text, std::string_view model,
                                      double accuracy, uint64_t seed);

// The embedded eval/questions.jsonl (generated at build time).
extern const std::string_view kEmbeddedEvalSet;

}  // namespace gw::sim
