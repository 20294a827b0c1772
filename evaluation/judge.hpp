#pragma once
// The rubric judge: a fixed, versioned prompt ("hg.judge/1") asks a model to score one answer
// for coherence, factuality and conciseness (1-5) as strict JSON, with no model names shown.
// Judgements are cached by (judge model, prompt version, question hash, answer hash).
// Pure parts here; the calls are in grade.cpp. The pairwise prompt ("hg.pair/1"), shared with the
// gateway's shadow judge, is policies/pairwise_judge.hpp.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gw::eval {

inline constexpr std::string_view kJudgePromptVersion = "hg.judge/1";
inline constexpr int kRubricMin = 1;
inline constexpr int kRubricMax = 5;

// OpenAI messages for judging `answer` to `question` (reference shown when non-empty).
nlohmann::json judge_messages(std::string_view question, std::string_view reference,
                              std::string_view answer);

// {"coherence":c,"factuality":f,"conciseness":n,"score":mean scaled to [0,1]} or nullopt when
// `output` is not exactly one JSON object (optionally in a ```json fence) with those three
// integer keys in [1, 5]. Nothing is guessed from prose.
std::optional<nlohmann::json> parse_rubric(std::string_view output);

// 16 hex digits of FNV-1a 64 over `text`.
std::string text_hash(std::string_view text);
// "judge|version|question-hash|answer-hash" (answer part: "A-hash/B-hash" for pairs).
std::string judge_cache_key(std::string_view judge_model, std::string_view version,
                            std::string_view question, std::string_view answer);

// The reference as the judge sees it: answer, number, phrases; "" when none.
std::string reference_text(const nlohmann::json& reference);

}  // namespace gw::eval
