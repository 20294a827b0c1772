#include "gateway/sim/eval_answers.hpp"

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "gateway/sim/answer.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;

struct KeyedItem {
  std::string id;
  std::string domain;
  json reference;
};

// Items by the text of their last user message.
const std::unordered_map<std::string, KeyedItem>& answer_key() {
  static const auto* key = [] {
    auto* m = new std::unordered_map<std::string, KeyedItem>();
    size_t pos = 0;
    const std::string_view set = kEmbeddedEvalSet;
    while (pos < set.size()) {
      size_t nl = set.find('\n', pos);
      if (nl == std::string_view::npos) nl = set.size();
      const json item = json::parse(set.substr(pos, nl - pos), nullptr, false);
      pos = nl + 1;
      if (!item.is_object() || !item.contains("messages") || !item["messages"].is_array()) continue;
      std::string user;
      for (const json& msg : item["messages"]) {
        if (msg.value("role", "") == "user" && msg.contains("content") &&
            msg["content"].is_string()) {
          user = msg["content"].get<std::string>();
        }
      }
      (*m)[user] = KeyedItem{item.value("id", ""), item.value("domain", ""),
                             item.value("reference", json::object())};
    }
    return m;
  }();
  return *key;
}

// A uniform draw in [0, 1) from a hash: the same answer for the same model, item and seed.
double unit(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

std::string number_text(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string prose(uint64_t seed, uint32_t words) {
  return std::string(generate_tokens(seed, words).text());
}

constexpr std::string_view kRefusal =
    "I don't know. The provided context is insufficient to answer that.";

std::string answer_text(const KeyedItem& item, bool right, uint64_t h) {
  const json& ref = item.reference;
  if (ref.value("refusal", false)) {
    return right ? std::string(kRefusal)
                 : "Based on the context, it is most likely " +
                       number_text(12 + static_cast<double>(h % 80)) + ".";
  }
  std::string out;
  if (ref.contains("numeric") && ref["numeric"].is_number()) {
    const double want = ref["numeric"].get<double>();
    if (!right && unit(h ^ 0x5bd1e995) < 0.25 && item.domain == "grounded")
      return std::string(kRefusal);
    const double got = right ? want : want + static_cast<double>(1 + h % 9) * (want >= 10 ? 10 : 1);
    std::string lead;  // required phrases, when the item has any, come first
    if (right && ref.contains("phrases") && ref["phrases"].is_array()) {
      for (const json& p : ref["phrases"]) {
        if (p.is_string()) lead += p.get<std::string>() + ". ";
      }
    }
    out = item.domain == "factual"
              ? "It is " + number_text(got) + "."
              : lead + "Working through the numbers step by step gives:\n" + number_text(got);
    return out;
  }
  if (ref.contains("answer") && ref["answer"].is_string()) {
    if (!right && item.domain == "grounded" && unit(h ^ 0x5bd1e995) < 0.3)
      return std::string(kRefusal);
    return right ? "The answer is " + ref["answer"].get<std::string>() + "."
                 : "I believe the answer is something else entirely, but I am not certain.";
  }
  if (ref.contains("phrases") && ref["phrases"].is_array()) {
    const auto& phrases = ref["phrases"];
    std::string points;
    // A wrong briefing misses its last required point.
    const size_t n = right || phrases.size() < 2 ? phrases.size() : phrases.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      if (!phrases[i].is_string()) continue;
      points += (points.empty() ? "" : ", ") + phrases[i].get<std::string>();
    }
    if (!right && phrases.size() < 2) points.clear();
    out = points.empty() ? "" : "Key points: " + points + ". ";
    out += prose(h, right ? 30 : 45);
    return out;
  }
  return prose(h, 40);
}

// Judge prompts as written by evaluation/judge.cpp (hg.judge/1 and hg.pair/1).
std::optional<EvalAnswer> judge_answer(std::string_view text) {
  auto between = [&](std::string_view label) -> std::optional<std::string_view> {
    const auto at = text.find(label);
    if (at == std::string_view::npos) return std::nullopt;
    const auto open = text.find("<<<\n", at);
    const auto close = text.find("\n>>>", open);
    if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
    return text.substr(open + 4, close - open - 4);
  };
  if (!text.starts_with("Question (with any context given):")) return std::nullopt;
  if (auto answer = between("Answer to grade:")) {
    const auto reference = between("Reference answer:");
    int factual = 4;
    if (reference) {
      // Right when the answer holds the reference's first line, or both decline to answer.
      const std::string_view first = reference->substr(0, reference->find('\n'));
      const bool refusal_expected = first.starts_with("The context is insufficient");
      const bool refused = answer->find("insufficient") != std::string_view::npos;
      factual = (refusal_expected ? refused
                                  : !first.empty() && answer->find(first) != std::string_view::npos)
                    ? 5
                    : 2;
    }
    const size_t words = tokenize(*answer).size();
    const int concise = words <= 40 ? 5 : words <= 80 ? 4 : 3;
    const int coherent = 3 + static_cast<int>(fnv1a(*answer) % 3);
    return EvalAnswer{"{\"coherence\": " + std::to_string(coherent) +
                          ", \"factuality\": " + std::to_string(factual) +
                          ", \"conciseness\": " + std::to_string(concise) + "}",
                      kConfidentLogprob};
  }
  const auto a = between("Answer A:");
  const auto b = between("Answer B:");
  if (!a || !b) return std::nullopt;
  // The shorter answer wins (a stable preference in either order); equal length ties.
  const std::string winner = a->size() < b->size() ? "A" : b->size() < a->size() ? "B" : "tie";
  return EvalAnswer{"{\"winner\": \"" + winner + "\"}", kConfidentLogprob};
}

}  // namespace

std::optional<EvalAnswer> eval_answer(std::string_view last_user_text, std::string_view model,
                                      double accuracy, uint64_t seed) {
  if (auto j = judge_answer(last_user_text)) return j;
  const auto& key = answer_key();
  const auto it = key.find(std::string(last_user_text));
  if (it == key.end()) return std::nullopt;
  const uint64_t h = fnv1a(it->second.id, fnv1a(model, seed * 0x9e3779b97f4a7c15ULL + 1));
  const bool right = unit(h) < accuracy;
  EvalAnswer out;
  out.text = answer_text(it->second, right, h);
  const double u = unit(h ^ 0xc2b2ae3d27d4eb4fULL);
  const bool unsure = right ? u < kRightButUnsureShare : u >= kWrongButSureShare;
  out.logprob = unsure ? kUnsureLogprob : kConfidentLogprob;
  return out;
}

}  // namespace gw::sim
