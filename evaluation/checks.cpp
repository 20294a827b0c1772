#include "evaluation/checks.hpp"

#include <re2/re2.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>

#include "evaluation/outcome.hpp"

namespace gw::eval {
namespace {

constexpr double kNumericRelativeTolerance = 1e-4;  // 0.01 %: 43.33 for 43.333, not 1441 for 1440
constexpr double kNumericAbsoluteFloor = 1e-9;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<double> last_number(std::string_view text) {
  std::optional<double> last;
  size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    // A run of digits, thousands groups (",ddd") and one decimal part.
    const size_t start = i;
    std::string digits;
    while (i < text.size() && is_digit(text[i])) digits += text[i++];
    while (i + 3 < text.size() + 0 && text[i] == ',' && is_digit(text[i + 1]) &&
           is_digit(text[i + 2]) && is_digit(text[i + 3]) &&
           (i + 4 >= text.size() || !is_digit(text[i + 4]))) {
      digits.append(text.substr(i + 1, 3));
      i += 4;
    }
    if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
      digits += '.';
      ++i;
      while (i < text.size() && is_digit(text[i])) digits += text[i++];
    }
    if (i + 1 < text.size() && (text[i] == 'e' || text[i] == 'E') &&
        (is_digit(text[i + 1]) ||
         (i + 2 < text.size() && (text[i + 1] == '-' || text[i + 1] == '+') &&
          is_digit(text[i + 2])))) {
      digits += 'e';
      ++i;
      if (text[i] == '-' || text[i] == '+') digits += text[i++];
      while (i < text.size() && is_digit(text[i])) digits += text[i++];
    }
    // A minus sign directly before the number (not a hyphen between words or a range "3-4").
    const bool negative =
        start > 0 && text[start - 1] == '-' &&
        (start == 1 || !std::isalnum(static_cast<unsigned char>(text[start - 2])));
    double v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc{}) last = negative ? -v : v;
  }
  return last;
}

bool numbers_match(double got, double want) {
  // Relative, so 43.33 matches 43.333 but 0 never matches 0.0025.
  const double tolerance =
      std::max(kNumericAbsoluteFloor, std::abs(want) * kNumericRelativeTolerance);
  return std::abs(got - want) <= tolerance;
}

std::string normalize_text(std::string_view text) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      space = true;
    }
  }
  return out;
}

std::vector<std::string> default_refusal_patterns() {
  return {R"((?i)\bI (don't|do not) know\b)", R"((?i)insufficient (context|information))",
          R"((?i)\b(cannot|can't|unable to) (answer|determine|tell)\b)",
          R"((?i)\b(does not|doesn't) (say|mention|state|contain|include)\b)",
          R"((?i)\bnot (mentioned|stated|provided|specified) in\b)"};
}

struct RefusalMatcher::Impl {
  std::vector<std::unique_ptr<re2::RE2>> patterns;
};

RefusalMatcher::RefusalMatcher(const std::vector<std::string>& patterns) : impl_(new Impl) {
  for (const auto& p : patterns) {
    auto re = std::make_unique<re2::RE2>(p, re2::RE2::Quiet);
    if (re->ok()) impl_->patterns.push_back(std::move(re));
  }
}

RefusalMatcher::~RefusalMatcher() {
  delete impl_;
}

bool RefusalMatcher::matches(std::string_view text) const {
  for (const auto& re : impl_->patterns) {
    if (re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re)) return true;
  }
  return false;
}

json auto_quality(const json& reference, const json& arm, const RefusalMatcher& refusal) {
  json checks = json::object();
  const bool answered = arm.is_object() && arm.value("error", json(nullptr)).is_null() &&
                        arm.contains("text") && arm["text"].is_string();
  const std::string text = answered ? arm["text"].get<std::string>() : std::string{};
  const bool refused = answered && refusal.matches(text);
  std::optional<bool> correct;
  auto conclude = [&](bool pass) { correct = correct.value_or(true) && pass; };

  const bool refusal_expected = reference.is_object() && reference.value("refusal", false);
  if (reference.is_object() && reference.contains("refusal") && reference["refusal"].is_boolean()) {
    const bool pass = answered && refused == refusal_expected;
    checks["refusal"] = {{"expected", refusal_expected}, {"refused", refused}, {"pass", pass}};
    conclude(pass);
  }
  if (!refusal_expected) {
    if (auto want = number_at(reference, "numeric")) {
      json got = nullptr;
      bool pass = false;
      if (answered) {
        if (const auto n = last_number(text)) {
          got = *n;
          pass = numbers_match(*n, *want);
        }
      }
      checks["numeric"] = {{"expected", *want}, {"got", got}, {"pass", pass}};
      conclude(pass);
    } else if (auto answer = string_at(reference, "answer"); !answer.empty()) {
      const std::string want = normalize_text(answer);
      const std::string got = " " + normalize_text(text) + " ";
      const bool pass =
          answered && !want.empty() && got.find(" " + want + " ") != std::string::npos;
      checks["answer"] = {{"expected", answer}, {"pass", pass}};
      conclude(pass);
    }
    if (auto phrases = reference.find("phrases"); reference.is_object() &&
                                                  phrases != reference.end() &&
                                                  phrases->is_array() && !phrases->empty()) {
      const std::string got = " " + normalize_text(text) + " ";
      json missing = json::array();
      size_t found = 0;
      for (const json& p : *phrases) {
        if (!p.is_string()) continue;
        const std::string want = normalize_text(p.get<std::string>());
        if (answered && got.find(" " + want + " ") != std::string::npos) {
          ++found;
        } else {
          missing.push_back(p);
        }
      }
      const bool pass = missing.empty();
      checks["phrases"] = {
          {"found", found}, {"of", phrases->size()}, {"missing", missing}, {"pass", pass}};
      conclude(pass);
    }
  }
  const bool truncated = answered && arm.value("finish_reason", json(nullptr)) == "length";
  checks["truncated"] = truncated;
  if (truncated && correct) conclude(false);  // a cut answer is not a finished one
  if (!answered && !correct && !checks.empty()) correct = false;
  json q = {{"source", "auto"}, {"checks", std::move(checks)}};
  q["correct"] = correct ? json(*correct) : json(nullptr);
  q["score"] = correct ? json(*correct ? 1.0 : 0.0) : json(nullptr);
  return q;
}

}  // namespace gw::eval
