#include "policies/escalation.hpp"

#include <string>

#include <nlohmann/json.hpp>

#include "base/utf8.hpp"

namespace gw::policies {

OnEscalate escalation_mode(OnEscalate configured, bool draft_calls_tools) {
  return draft_calls_tools ? OnEscalate::replace : configured;
}

std::string_view to_string(OnEscalate mode) {
  return mode == OnEscalate::refine ? "refine" : "replace";
}

std::optional<OnEscalate> parse_on_escalate(std::string_view name) {
  if (name == "replace") return OnEscalate::replace;
  if (name == "refine") return OnEscalate::refine;
  return std::nullopt;
}

std::string refine_instruction(std::string_view refine_prompt, std::string_view draft) {
  std::string out;
  std::size_t from = 0;
  for (auto at = refine_prompt.find(kDraftPlaceholder); at != std::string_view::npos;
       at = refine_prompt.find(kDraftPlaceholder, from)) {
    out.append(refine_prompt.substr(from, at - from));
    out.append(draft);
    from = at + kDraftPlaceholder.size();
  }
  if (from == 0) {
    out.assign(refine_prompt);
    out += "\n\n";
    out.append(draft);
    return out;
  }
  out.append(refine_prompt.substr(from));
  return out;
}

nlohmann::json escalation_messages(OnEscalate mode, nlohmann::json messages, std::string_view draft,
                                   std::string_view refine_prompt) {
  if (mode == OnEscalate::replace) return messages;
  const std::string safe_draft = utf8::sanitize(draft);
  nlohmann::json out = messages.is_array() ? std::move(messages) : nlohmann::json::array();
  out.push_back({{"role", "assistant"}, {"content", safe_draft}});
  out.push_back({{"role", "user"},
                 {"content", utf8::sanitize(refine_instruction(refine_prompt, safe_draft))}});
  return out;
}

}  // namespace gw::policies
