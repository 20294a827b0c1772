// A request body and a draft answer -> what the agent rules read and judge (issue 10): the
// requested output (tools, response_format), the JSON outline reader, tool-call and
// structured-output checks, a whole answer's tool calls, stream deltas assembled chunk by chunk,
// and judge() on every prefix. All of it reads untrusted JSON: no crash, no exception, and:
//  - json_shape agrees with nlohmann's own validator on every text within the depth limit;
//  - a stream's complete tool calls never outnumber its calls, and a complete draft has no
//    open call.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/completion/judged_draft.hpp"
#include "gateway/http/json_text.hpp"
#include "policies/json_shape.hpp"
#include "policies/judge.hpp"
#include "policies/requested_output.hpp"
#include "policies/rules.hpp"
#include "policies/structured_output.hpp"
#include "policies/tool_calls.hpp"

namespace pol = gw::policies;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "agent_answer: %s\n", what);
  std::abort();
}

json parse_bounded(std::string_view text) {
  if (!gw::http::json_nesting_within(text, gw::http::kMaxJsonDepth)) return json();
  return json::parse(text, nullptr, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gw::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.byte();
  const std::string request_text(in.field('\0'));
  const std::string answer_text(in.field('\0'));

  // The outline reader against nlohmann's validator (which has no depth limit of its own).
  const pol::JsonShape shape = pol::json_shape(answer_text);
  if (gw::http::json_nesting_within(answer_text, pol::kMaxJudgedJsonDepth) &&
      shape.valid != json::accept(answer_text)) {
    fail("json_shape disagrees with json::accept");
  }

  const json request = parse_bounded(request_text);
  const pol::RequestedOutput requested = pol::requested_output(request);
  (void)pol::structured_output_problem(requested.format, answer_text);
  (void)pol::tool_call_problem(requested, {answer_text, answer_text, (flags & 1) != 0});

  pol::RuleSpec spec;
  spec.after_draft.invalid_tool_call = flags & 2;
  spec.after_draft.invalid_json = flags & 4;
  spec.after_draft.chars_under = flags & 8 ? 20 : 0;
  spec.after_draft.finish_reason_length = flags & 16;
  auto compiled = pol::Rules::compile(std::move(spec));
  const auto& rules = std::get<pol::Rules>(compiled);

  // The answer as a whole completion body.
  if (auto whole = gw::chat::read_completion(parse_bounded(answer_text))) {
    const gw::chat::JudgedDraft judged(*whole, true, &requested);
    (void)pol::judge(rules, judged.draft);
  }

  // The rest of the input as stream chunks, one per line.
  gw::chat::DraftText streamed;
  while (!in.empty()) {
    const std::string_view line = in.field('\n');
    auto chunk = gw::chat::read_chunk(line);
    if (!chunk) continue;
    gw::chat::accumulate(streamed, *chunk);
    const gw::chat::JudgedDraft prefix(streamed, false, &requested);
    if (prefix.calls.size() > streamed.tool_calls.calls.size())
      fail("more complete calls than calls");
    (void)pol::judge(rules, prefix.draft);
    (void)pol::can_still_escalate_later(rules, prefix.draft);
    (void)pol::hold_past_window(rules, prefix.draft);
  }
  const gw::chat::JudgedDraft complete(streamed, true, &requested);
  if (complete.draft.tool_call_open) fail("a complete draft has an open tool call");
  if (complete.calls.size() != streamed.tool_calls.calls.size()) fail("complete draft lost calls");
  (void)pol::judge(rules, complete.draft);
  return 0;
}
