#include "policies/rules.hpp"

#include <re2/re2.h>

#include <utility>

namespace gw::policies {
namespace {

RE2::Options pattern_options() {
  RE2::Options options;           // UTF-8 in, UTF-8 patterns; (?i) and \b work as written
  options.set_log_errors(false);  // errors are returned to the config loader, not logged
  return options;
}

std::unique_ptr<const RE2> compile_one(std::string_view pattern) {
  return std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                     pattern_options());
}

}  // namespace

std::string_view to_string(PatternList list) {
  return list == PatternList::match ? "before_draft.match" : "after_draft.refusal";
}

std::string RuleError::describe() const {
  return std::string(to_string(list)) + "[" + std::to_string(index) + "]: " + message;
}

std::optional<std::string> regex_error(std::string_view pattern) {
  const auto re = compile_one(pattern);
  if (re->ok()) return std::nullopt;
  return re->error();
}

Rules::Rules(Rules&&) noexcept = default;
Rules& Rules::operator=(Rules&&) noexcept = default;
Rules::~Rules() = default;

std::variant<Rules, std::vector<RuleError>> Rules::compile(RuleSpec spec) {
  Rules rules;
  std::vector<RuleError> errors;
  const auto compile_list = [&](PatternList list, const std::vector<std::string>& patterns,
                                Compiled& out) {
    out.reserve(patterns.size());
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      auto re = compile_one(patterns[i]);
      if (!re->ok()) errors.push_back({list, i, patterns[i], re->error()});
      out.push_back(std::move(re));
    }
  };
  compile_list(PatternList::match, spec.before_draft.match, rules.match_);
  compile_list(PatternList::refusal, spec.after_draft.refusal, rules.refusal_);
  if (!errors.empty()) return errors;
  rules.spec_ = std::move(spec);
  return rules;
}

std::optional<std::size_t> Rules::first_match(std::string_view prompt_text) const {
  return first_found(match_, prompt_text);
}

std::optional<std::size_t> Rules::first_refusal(std::string_view draft_text) const {
  return first_found(refusal_, draft_text);
}

std::optional<std::size_t> Rules::first_found(const Compiled& patterns, std::string_view text) {
  const re2::StringPiece piece(text.data(), text.size());
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    if (RE2::PartialMatch(piece, *patterns[i])) return i;
  }
  return std::nullopt;
}

}  // namespace gw::policies
