// Prompt text, draft text and logprobs -> the routing policies: the rules (patterns from the
// input too, as an operator could write them), prompt_stats, before_draft, judge on a prefix and
// on a complete draft, the escalation prompts, and the UTF-8 helpers. Policies are pure code
// run on every routed request: no crash, no exception, and two properties:
//  - utf8::sanitize keeps the code point count and always yields valid UTF-8 (it is serialised);
//  - a prefix judged releasable cannot be escalated by chars_over later than the prefix itself.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "base/utf8.hpp"
#include "fuzz_input.hpp"
#include "policies/before_draft.hpp"
#include "policies/escalation.hpp"
#include "policies/judge.hpp"
#include "policies/prompt.hpp"
#include "policies/rules.hpp"

namespace pol = gw::policies;
namespace utf8 = gw::utf8;
using nlohmann::json;

namespace {

void check_utf8(std::string_view text) {
  std::string clean = utf8::sanitize(text);
  if (utf8::code_points(clean) != utf8::code_points(text)) {
    std::fprintf(stderr, "policies: sanitize_utf8 changed the code point count\n");
    std::abort();
  }
  (void)json(clean).dump();  // throws type_error 316 on invalid UTF-8: an escaping exception
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gw::fuzz::FuzzInput in(data, size);
  std::uint8_t flags = in.byte();
  pol::RuleSpec spec;
  spec.before_draft.prompt_chars_over = in.byte();
  spec.after_draft.chars_under = in.byte() % 32;
  spec.after_draft.chars_over = in.byte();
  spec.after_draft.finish_reason_length = flags & 1;
  if (flags & 2) spec.after_draft.mean_logprob_under = in.raw_double();
  // Patterns: a line each, a few of them (RE2 is linear; its compile errors are reported).
  for (int i = 0; i < (flags >> 2 & 3); ++i) spec.before_draft.match.emplace_back(in.field());
  for (int i = 0; i < (flags >> 4 & 3); ++i) spec.after_draft.refusal.emplace_back(in.field());
  for (const auto& p : spec.before_draft.match) (void)pol::regex_error(p);

  std::string system(in.field('\0'));
  std::string user(in.field('\0'));
  std::string draft_text(in.field('\0'));
  std::string finish_reason(in.field('\0'));
  std::vector<double> logprobs;
  while (!in.empty() && logprobs.size() < 64) logprobs.push_back(in.raw_double());

  check_utf8(system);
  check_utf8(user);
  check_utf8(draft_text);

  json messages = json::array();
  messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back(
      {{"role", "user"},
       {"content", json::array({{{"type", "text"}, {"text", user}}, {{"type", "image_url"}}})}});
  messages.push_back({{"role", "assistant"}, {"content", draft_text}});
  messages.push_back(json(7));  // wrong shapes are skipped, never an error
  pol::PromptStats stats = pol::prompt_stats(messages);

  auto compiled = pol::Rules::compile(spec);
  if (auto* rules = std::get_if<pol::Rules>(&compiled)) {
    (void)pol::before_draft(*rules, stats);
    pol::Draft whole{draft_text, finish_reason, logprobs, true};
    (void)pol::judge(*rules, whole);
    (void)pol::can_still_escalate_later(*rules, whole);
    // Every prefix cut the fuzzer chose, as the streaming hold sees the draft grow.
    std::size_t cut = draft_text.empty() ? 0 : (flags * 131u) % (draft_text.size() + 1);
    pol::Draft prefix{std::string_view(draft_text).substr(0, cut),
                      {},
                      std::span<const double>(logprobs).first(std::min(cut, logprobs.size())),
                      false};
    pol::Verdict v = pol::judge(*rules, prefix);
    if (!v.escalate && !pol::can_still_escalate_later(*rules, prefix) &&
        pol::judge(*rules, whole).reason == pol::Reason::chars_over &&
        utf8::code_points(prefix.text) == utf8::code_points(whole.text)) {
      std::fprintf(stderr, "policies: released prefix, same text escalates for chars_over\n");
      std::abort();
    }
  } else {
    for (const auto& e : std::get<std::vector<pol::RuleError>>(compiled)) (void)e.describe();
  }

  for (auto mode : {pol::OnEscalate::replace, pol::OnEscalate::refine}) {
    (void)pol::escalation_messages(mode, messages, draft_text, "Improve: {draft}");
  }
  (void)pol::refine_instruction(user, draft_text);
  return 0;
}
