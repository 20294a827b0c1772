#pragma once
// hg.evalset/1: a question set, one JSON object per line (format in docs/evaluation.md).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gw::eval {

inline constexpr uint32_t kDefaultItemMaxTokens = 512;

struct EvalItem {
  std::string id;
  std::string domain;
  nlohmann::json messages;   // OpenAI chat messages, as written
  nlohmann::json reference;  // object; {} when the item has none
  uint32_t max_tokens = kDefaultItemMaxTokens;
  nlohmann::json tags = nlohmann::json::array();
};

struct Evalset {
  std::vector<EvalItem> items;
  // "FILE:LINE: message" for each line that is not a usable item (skipped), duplicate ids too.
  std::vector<std::string> problems;
};

Evalset read_evalset(const std::string& path);
// Validates one parsed line; an empty string when it is a usable item.
std::string check_item(const nlohmann::json& line);
EvalItem item_from_json(const nlohmann::json& line);

// The text of the system and user messages joined by "\n": what before_draft rules inspect.
std::string prompt_text(const nlohmann::json& messages);

}  // namespace gw::eval
