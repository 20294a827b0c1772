#include "policies/agreement.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/trim.hpp"

namespace gw::policies {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// "0012.500" -> "12.5", "3." -> "3", "-0.0" -> "0".
std::string normalise(bool negative, std::string integer, std::string fraction) {
  integer.erase(0, std::min(integer.find_first_not_of('0'), integer.size()));
  if (integer.empty()) integer = "0";
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string out = integer;
  if (!fraction.empty()) out += "." + fraction;
  if (negative && out != "0") out = "-" + out;
  return out;
}

std::vector<std::string> tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    // Bytes of multi-byte UTF-8 characters belong to tokens: words in other scripts count.
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 ||
        (static_cast<unsigned char>(c) & 0x80)) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

std::string_view to_string(ShadowVerdict v) {
  switch (v) {
    case ShadowVerdict::draft_ok:
      return "draft_ok";
    case ShadowVerdict::draft_worse:
      return "draft_worse";
    case ShadowVerdict::draft_better:
      return "draft_better";
    case ShadowVerdict::tie:
      return "tie";
  }
  return "tie";
}

std::optional<std::string> last_number(std::string_view text) {
  std::optional<std::string> last;
  std::size_t i = 0;
  while (i < text.size()) {
    // A number starts at a digit not glued to a word before it ("gpt4" holds no number).
    if (!is_digit(text[i]) || (i > 0 && (is_word(text[i - 1])))) {
      ++i;
      continue;
    }
    const bool negative = i > 0 && text[i - 1] == '-' && (i < 2 || !is_word(text[i - 2]));
    std::string integer;
    while (i < text.size() && is_digit(text[i])) integer += text[i++];
    // Thousands groups: a comma followed by exactly three digits ("1,234,567"; "1,2" is a list).
    while (i + 3 < text.size() && text[i] == ',' && is_digit(text[i + 1]) &&
           is_digit(text[i + 2]) && is_digit(text[i + 3]) &&
           (i + 4 >= text.size() || !is_digit(text[i + 4]))) {
      integer.append(text.substr(i + 1, 3));
      i += 4;
    }
    std::string fraction;
    if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
      ++i;
      while (i < text.size() && is_digit(text[i])) fraction += text[i++];
    }
    last = normalise(negative, std::move(integer), std::move(fraction));
  }
  return last;
}

double token_f1(std::string_view a, std::string_view b) {
  auto ta = tokens(a);
  auto tb = tokens(b);
  if (ta.empty() && tb.empty()) return 1.0;
  if (ta.empty() || tb.empty()) return 0.0;
  std::map<std::string, long> counts;
  for (auto& t : ta) ++counts[t];
  long common = 0;
  for (auto& t : tb) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / static_cast<double>(ta.size());
  const double recall = static_cast<double>(common) / static_cast<double>(tb.size());
  return 2 * precision * recall / (precision + recall);
}

double length_ratio(std::string_view a, std::string_view b) {
  const auto longer = std::max(a.size(), b.size());
  if (longer == 0) return 1.0;
  return static_cast<double>(std::min(a.size(), b.size())) / static_cast<double>(longer);
}

bool json_equal(std::string_view a, std::string_view b) {
  a = trim_space(a);
  b = trim_space(b);
  if (a.empty()) a = "{}";
  if (b.empty()) b = "{}";
  auto ja = nlohmann::json::parse(a, nullptr, false);
  auto jb = nlohmann::json::parse(b, nullptr, false);
  if (!ja.is_discarded() && !jb.is_discarded()) return ja == jb;
  return a == b;
}

Agreement compare_answers(const Answer& draft, const Answer& reference,
                          const AgreementOptions& options) {
  Agreement out;
  out.token_f1 = token_f1(draft.text, reference.text);
  out.length_ratio = length_ratio(draft.text, reference.text);
  if (!draft.tool_calls.empty() || !reference.tool_calls.empty()) {
    bool equal = draft.tool_calls.size() == reference.tool_calls.size();
    for (std::size_t i = 0; equal && i < draft.tool_calls.size(); ++i) {
      const auto& d = draft.tool_calls[i];
      const auto& r = reference.tool_calls[i];
      equal = d.name == r.name && json_equal(d.arguments, r.arguments);
    }
    out.tool_calls_equal = equal;
    out.score = equal ? 1.0 : 0.0;
    out.verdict = equal ? ShadowVerdict::draft_ok : ShadowVerdict::draft_worse;
    out.basis = "tool_calls";
    return out;
  }
  out.draft_number = last_number(draft.text);
  out.reference_number = last_number(reference.text);
  if (out.draft_number && out.reference_number) {
    out.numeric_equal = *out.draft_number == *out.reference_number;
  }
  if (options.numeric && out.reference_number) {
    const bool equal = out.numeric_equal.value_or(false);
    out.score = equal ? 1.0 : 0.0;
    out.verdict = equal ? ShadowVerdict::draft_ok : ShadowVerdict::draft_worse;
    out.basis = "numeric";
    return out;
  }
  if (options.token_f1) {
    out.score = out.token_f1;
    out.verdict =
        out.token_f1 >= options.token_f1_ok ? ShadowVerdict::draft_ok : ShadowVerdict::tie;
    out.basis = "token_f1";
  }
  return out;
}

}  // namespace gw::policies
