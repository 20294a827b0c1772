#pragma once
// The routing rules of SPEC's `routing.before_draft` / `routing.after_draft`,
// compiled once. A compiled Rules is immutable: share it between threads
// (e.g. std::shared_ptr<const Rules>); matching takes no locks of ours.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace gw::policies {

// Mirrors the YAML. A default RuleSpec has every rule off.
struct BeforeDraftSpec {
  std::uint64_t prompt_chars_over = 0;  // characters; 0 = off
  std::vector<std::string> match;       // RE2 patterns, searched in the prompt text
};

struct AfterDraftSpec {
  std::uint64_t chars_under = 0;  // characters; 0 = off
  std::uint64_t chars_over = 0;   // characters; 0 = off
  bool finish_reason_length = false;
  std::vector<std::string> refusal;          // RE2 patterns, searched in the draft text
  std::optional<double> mean_logprob_under;  // nullopt = off
  std::optional<double> min_logprob_under;   // lowest token logprob; nullopt = off
  std::optional<double> p10_logprob_under;   // 10th percentile (nearest rank); nullopt = off
  std::optional<double> first_margin_under;  // first token's top-1 minus top-2; nullopt = off
  bool invalid_tool_call = false;            // a tool call the request's `tools` do not allow
  bool invalid_json = false;                 // structured output that breaks its `response_format`

  // The rules that need the draft's token logprobs / the first token's top-2 alternatives.
  bool needs_logprobs() const {
    return mean_logprob_under || min_logprob_under || p10_logprob_under || first_margin_under;
  }
  bool needs_top_logprobs() const { return first_margin_under.has_value(); }
};

struct RuleSpec {
  BeforeDraftSpec before_draft;
  AfterDraftSpec after_draft;
};

enum class PatternList { match, refusal };

// "before_draft.match" or "after_draft.refusal": the YAML path of the list.
std::string_view to_string(PatternList list);

// One pattern that RE2 rejected.
struct RuleError {
  PatternList list = PatternList::match;
  std::size_t index = 0;  // position in the list, from 0
  std::string pattern;
  std::string message;  // RE2's error text

  // "before_draft.match[1]: missing ): (abc"
  std::string describe() const;
};

// RE2's error text for `pattern`, or nullopt when it compiles. Uses the same
// options as Rules::compile(), so a pattern that passes here compiles there.
std::optional<std::string> regex_error(std::string_view pattern);

class Rules {
 public:
  // Every pattern is compiled; all errors are reported, in list order.
  static std::variant<Rules, std::vector<RuleError>> compile(RuleSpec spec);

  Rules(Rules&&) noexcept;
  Rules& operator=(Rules&&) noexcept;
  Rules(const Rules&) = delete;
  Rules& operator=(const Rules&) = delete;
  ~Rules();

  const BeforeDraftSpec& before_draft() const { return spec_.before_draft; }
  const AfterDraftSpec& after_draft() const { return spec_.after_draft; }

  // Index of the first before_draft.match pattern found in `prompt_text`.
  std::optional<std::size_t> first_match(std::string_view prompt_text) const;
  // Index of the first after_draft.refusal pattern found in `draft_text`.
  std::optional<std::size_t> first_refusal(std::string_view draft_text) const;

 private:
  using Compiled = std::vector<std::unique_ptr<const re2::RE2>>;

  Rules() = default;
  static std::optional<std::size_t> first_found(const Compiled& patterns, std::string_view text);

  RuleSpec spec_;
  Compiled match_;
  Compiled refusal_;
};

}  // namespace gw::policies
