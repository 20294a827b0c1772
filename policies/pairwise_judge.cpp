#include "policies/pairwise_judge.hpp"

#include "base/trim.hpp"

namespace gw::policies {
namespace {

constexpr std::string_view kPairSystem =
    "You compare two answers to the same question. Decide which answer is better overall "
    "(correct, supported by the context, clear, concise). Reply with exactly one JSON object "
    "and nothing else: {\"winner\": \"A\"}, {\"winner\": \"B\"} or {\"winner\": \"tie\"}.";

}  // namespace

nlohmann::json pair_messages(std::string_view question, std::string_view a, std::string_view b) {
  std::string user = "Question (with any context given):\n<<<\n";
  user += question;
  user += "\n>>>\n\nAnswer A:\n<<<\n";
  user += a;
  user += "\n>>>\n\nAnswer B:\n<<<\n";
  user += b;
  user += "\n>>>";
  return nlohmann::json::array(
      {{{"role", "system"}, {"content", kPairSystem}}, {{"role", "user"}, {"content", user}}});
}

std::optional<std::string> parse_pair(std::string_view output) {
  const auto doc =
      nlohmann::json::parse(strip_json_fence(output), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  const auto it = doc.find("winner");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  const auto& w = it->get_ref<const std::string&>();
  if (w == "A" || w == "B" || w == "tie") return w;
  return std::nullopt;
}

std::string_view strip_json_fence(std::string_view s) {
  s = trim_space(s);
  if (s.starts_with("```") && s.ends_with("```") && s.size() >= 6) {
    s.remove_suffix(3);
    s.remove_prefix(3);
    if (s.starts_with("json")) s.remove_prefix(4);
    s = trim_space(s);
  }
  return s;
}

}  // namespace gw::policies
