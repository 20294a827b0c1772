#pragma once
// The pairwise judge prompt ("hg.pair/1"): a model is shown one question and two answers as
// "Answer A" / "Answer B", with no model names, and names the better one as strict JSON.
// `eval grade` and the shadow judge ask exactly this prompt, so their verdicts compare.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gw::policies {

inline constexpr std::string_view kPairPromptVersion = "hg.pair/1";
// A judge replies with one small JSON object; this bounds a rambling one (rubric judge too).
inline constexpr std::uint32_t kJudgeMaxTokens = 200;

// OpenAI messages comparing `answer_a` and `answer_b` as answers to `question`.
nlohmann::json pair_messages(std::string_view question, std::string_view answer_a,
                             std::string_view answer_b);

// "A", "B" or "tie" from exactly {"winner": ...} (optionally in a ```json fence); nullopt for
// anything else. Nothing is guessed from prose.
std::optional<std::string> parse_pair(std::string_view output);

// A judge's reply without surrounding white space and without one ```json ... ``` fence.
std::string_view strip_json_fence(std::string_view output);

}  // namespace gw::policies
