#include "policies/prompt.hpp"

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/utf8.hpp"

namespace gw::policies {

// `developer` is what newer clients send in place of `system` (the openai SDK for reasoning
// models): it steers the answer just the same, so a `match` rule must see it.
bool rules_read(std::string_view role) {
  return role == "system" || role == "developer" || role == "user";
}

namespace {

void add_text(PromptStats& stats, std::string_view text, bool with_text) {
  if (with_text) {
    if (!stats.text.empty()) stats.text += '\n';
    stats.text += text;
  }
  stats.chars += utf8::code_points(text);
}

}  // namespace

PromptStats prompt_stats(const nlohmann::json& messages, bool with_text) {
  PromptStats stats;
  if (!messages.is_array()) return stats;
  for (const auto& message : messages) {
    if (!message.is_object()) continue;
    const auto role = message.find("role");
    if (role == message.end() || !role->is_string() ||
        !rules_read(role->get_ref<const std::string&>())) {
      continue;
    }
    const auto content = message.find("content");
    if (content == message.end()) continue;
    if (content->is_string()) {
      add_text(stats, content->get_ref<const std::string&>(), with_text);
      continue;
    }
    if (!content->is_array()) continue;
    for (const auto& part : *content) {
      if (!part.is_object()) continue;
      const auto type = part.find("type");
      const auto text = part.find("text");
      if (type == part.end() || *type != "text" || text == part.end() || !text->is_string()) {
        continue;
      }
      add_text(stats, text->get_ref<const std::string&>(), with_text);
    }
  }
  return stats;
}

}  // namespace gw::policies
