#pragma once
// `hybrid-gateway eval import routellm`: RouteLLM's published recorded outcomes (lm-sys/RouteLLM,
// routellm/evals/) as hg.outcome/1 rows: the weak model as the `draft` arm, the strong one as
// `escalate`. The files are read from the paths given; nothing of them is bundled.

#include <istream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gw::eval {

inline constexpr std::string_view kRouteLlmWeak = "mistralai/Mixtral-8x7B-Instruct-v0.1";
inline constexpr std::string_view kRouteLlmStrong = "gpt-4-1106-preview";
// A CSV field longer than this is refused (the published answers are a few KiB).
inline constexpr std::size_t kMaxCsvFieldBytes = 4 * 1024 * 1024;

// RFC 4180 records: quoted fields may hold commas, newlines and doubled quotes. Throws
// std::runtime_error on an unterminated quote or an oversized field.
std::vector<std::vector<std::string>> read_csv(std::istream& in);

// The `eval_prompt` of every line of RouteLLM's contaminated_prompts.jsonl files.
std::set<std::string> read_contaminated(const std::vector<std::string>& paths);

struct ImportCounts {
  std::size_t read = 0, dropped_contaminated = 0, written = 0;
};

// GSM8K responses CSV: prompt, <weak> (True/False), <strong>, <weak>_response,
// <strong>_response. Quality: 1 correct, 0 not (source "routellm").
std::vector<nlohmann::json> import_gsm8k(const std::string& csv_path,
                                         const std::set<std::string>& contaminated,
                                         ImportCounts& counts);

// MT-Bench GPT-4 judgements (score 1-10 per model, question and turn): one row per question,
// routed on its first turn as RouteLLM does; quality = (mean score over the turns - 1) / 9; the
// answer text is the first turn's, cut from the judge prompt. Questions whose first or second
// turn is contaminated are dropped. `questions_path` (question.jsonl) may be empty.
std::vector<nlohmann::json> import_mtbench(const std::string& judgements_path,
                                           const std::string& questions_path,
                                           const std::set<std::string>& contaminated,
                                           ImportCounts& counts);

int import_command(int argc, char** argv);

}  // namespace gw::eval
