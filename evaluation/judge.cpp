#include "evaluation/judge.hpp"

#include <cstdio>

#include "evaluation/outcome.hpp"
#include "policies/pairwise_judge.hpp"

namespace gw::eval {
namespace {

constexpr std::string_view kJudgeSystem =
    "You grade one answer to a question. Score it on three criteria, each an integer from 1 "
    "(poor) to 5 (excellent):\n"
    "- coherence: is it clear, well organised and on topic?\n"
    "- factuality: is it correct and supported by the question's context (and the reference, "
    "when one is given)? When the context does not contain the answer, an honest statement "
    "that it cannot be answered is the correct answer.\n"
    "- conciseness: does it say what is needed without padding?\n"
    "Reply with exactly one JSON object and nothing else, for example:\n"
    "{\"coherence\": 4, \"factuality\": 5, \"conciseness\": 3}";

}  // namespace

json judge_messages(std::string_view question, std::string_view reference,
                    std::string_view answer) {
  std::string user = "Question (with any context given):\n<<<\n";
  user += question;
  user += "\n>>>\n\n";
  if (!reference.empty()) {
    user += "Reference answer:\n<<<\n";
    user += reference;
    user += "\n>>>\n\n";
  }
  user += "Answer to grade:\n<<<\n";
  user += answer;
  user += "\n>>>";
  return json::array(
      {{{"role", "system"}, {"content", kJudgeSystem}}, {{"role", "user"}, {"content", user}}});
}

std::optional<json> parse_rubric(std::string_view output) {
  const json doc =
      json::parse(policies::strip_json_fence(output), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  json out = json::object();
  double sum = 0;
  for (const char* key : {"coherence", "factuality", "conciseness"}) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_number_integer()) return std::nullopt;
    const auto v = it->get<int64_t>();
    if (v < kRubricMin || v > kRubricMax) return std::nullopt;
    out[key] = v;
    sum += static_cast<double>(v - kRubricMin) / (kRubricMax - kRubricMin);
  }
  out["score"] = sum / 3.0;
  return out;
}

std::string text_hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string judge_cache_key(std::string_view judge_model, std::string_view version,
                            std::string_view question, std::string_view answer) {
  std::string key(judge_model);
  key += '|';
  key += version;
  key += '|';
  key += text_hash(question);
  key += '|';
  key += text_hash(answer);
  return key;
}

std::string reference_text(const json& reference) {
  if (!reference.is_object()) return {};
  if (reference.value("refusal", false)) {
    return "The context is insufficient: the right answer says so instead of answering.";
  }
  std::string out = string_at(reference, "answer");
  if (out.empty()) {
    if (auto n = number_at(reference, "numeric")) out = json(*n).dump();
  }
  if (auto p = reference.find("phrases"); p != reference.end() && p->is_array() && !p->empty()) {
    if (!out.empty()) out += "\n";
    out += "Should mention:";
    for (const json& s : *p) {
      if (s.is_string()) out += " \"" + s.get<std::string>() + "\";";
    }
  }
  return out;
}

}  // namespace gw::eval
