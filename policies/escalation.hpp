#pragma once
// The request sent to the escalation model.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace gw::policies {

enum class OnEscalate { replace, refine };

// The mode used for one escalation: refine polishes a text, so a draft that calls tools is
// replaced whatever `routing.on_escalate` says (the large model gets the original request).
OnEscalate escalation_mode(OnEscalate configured, bool draft_calls_tools);

// "replace" / "refine", as written in `routing.on_escalate`.
std::string_view to_string(OnEscalate mode);
std::optional<OnEscalate> parse_on_escalate(std::string_view name);

// The `{draft}` placeholder in refine_prompt.
inline constexpr std::string_view kDraftPlaceholder = "{draft}";

// refine_prompt with every `{draft}` replaced by `draft`, in one pass (a
// `{draft}` inside the draft itself is left alone). Without a placeholder the
// draft is appended after a blank line: the large model must see it.
std::string refine_instruction(std::string_view refine_prompt, std::string_view draft);

// The `messages` of the escalation request; the caller swaps it into the body.
//   replace: `messages` unchanged.
//   refine:  `messages`, then {"role":"assistant","content":draft}, then
//            {"role":"user","content":refine_instruction(refine_prompt, draft)}.
// Invalid UTF-8 in the draft becomes U+FFFD so the body can be serialised.
// A `messages` that is not an array is returned unchanged by replace and
// treated as empty by refine.
// `messages` is taken by value: a caller done with its tree moves it in (a RAG prompt's).
nlohmann::json escalation_messages(OnEscalate mode, nlohmann::json messages, std::string_view draft,
                                   std::string_view refine_prompt);

}  // namespace gw::policies
