// issue 10: a draft is judged as what it is — text, tool calls, or structured output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/judge.hpp"
#include "test_support.hpp"

namespace gw::policies {
namespace {

using testing::after_draft_rules;
using testing::esc;

const RequestedOutput& tools_offered() {
  static const RequestedOutput r = requested_output(nlohmann::json::parse(R"({"tools":[
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "required":["city"]}}}]})"));
  return r;
}

const RequestedOutput& ok_schema() {
  static const RequestedOutput r = requested_output(nlohmann::json::parse(R"({
    "response_format":{"type":"json_schema","json_schema":{"name":"ok","schema":{
      "type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}}}})"));
  return r;
}

const RequestedOutput kPlainText;
const std::vector<ToolCall> kGoodCall = {{"get_weather", R"({"city":"Oslo"})", true}};
const std::vector<ToolCall> kUnknownCall = {{"get_wether", R"({"city":"Oslo"})", true}};
const std::vector<ToolCall> kNoCall = {};

AfterDraftSpec spec(std::uint64_t under, std::uint64_t over, bool tool, bool json,
                    std::vector<std::string> refusal = {}) {
  AfterDraftSpec s;
  s.chars_under = under;
  s.chars_over = over;
  s.invalid_tool_call = tool;
  s.invalid_json = json;
  s.refusal = std::move(refusal);
  return s;
}

struct AnswerKindCase {
  const char* name;
  AfterDraftSpec spec;
  const RequestedOutput* requested;
  std::string text;
  const std::vector<ToolCall>* calls;
  std::string finish_reason;
  Verdict expected;
};

class AnswerKindTest : public ::testing::TestWithParam<AnswerKindCase> {};

TEST_P(AnswerKindTest, Judges) {
  const auto& c = GetParam();
  Draft d{c.text, c.finish_reason, {}, true};
  d.tool_calls = *c.calls;
  d.requested = c.requested;
  EXPECT_EQ(judge(after_draft_rules(c.spec), d), c.expected);
}

const Verdict kKeep = Verdict::keep();
const std::vector<std::string> kDontKnow = {"(?i)\\bI (don't|do not) know\\b"};

INSTANTIATE_TEST_SUITE_P(
    Table, AnswerKindTest,
    ::testing::Values(
        // Defect 3: the preamble is not the answer; the call is.
        AnswerKindCase{"tool_call_with_short_preamble_not_chars_under", spec(20, 0, false, false),
                       &tools_offered(), "Let me check.", &kGoodCall, "tool_calls", kKeep},
        AnswerKindCase{"tool_call_without_text_not_chars_under", spec(20, 0, false, false),
                       &tools_offered(), "", &kGoodCall, "tool_calls", kKeep},
        AnswerKindCase{"tool_call_preamble_not_chars_over", spec(0, 5, false, false),
                       &tools_offered(), "Let me check that for you.", &kGoodCall, "tool_calls",
                       kKeep},
        AnswerKindCase{"tool_call_preamble_not_refusal", spec(0, 0, false, false, kDontKnow),
                       &tools_offered(), "I don't know offhand, let me look.", &kGoodCall,
                       "tool_calls", kKeep},
        // The same short text without a call is a short text answer.
        AnswerKindCase{"text_short_is_chars_under", spec(20, 0, true, true), &tools_offered(),
                       "Let me check.", &kNoCall, "stop", esc(Reason::chars_under)},
        // Defect 3: `{"ok":true}` is a whole structured answer.
        AnswerKindCase{"structured_ok_not_chars_under", spec(20, 0, false, false), &ok_schema(),
                       R"({"ok":true})", &kNoCall, "stop", kKeep},
        AnswerKindCase{"structured_ok_not_chars_under_rule_on", spec(20, 0, false, true),
                       &ok_schema(), R"({"ok":true})", &kNoCall, "stop", kKeep},
        AnswerKindCase{"same_text_plain_request_is_chars_under", spec(20, 0, false, true),
                       &kPlainText, R"({"ok":true})", &kNoCall, "stop", esc(Reason::chars_under)},
        AnswerKindCase{"structured_not_chars_over", spec(0, 5, false, false), &ok_schema(),
                       R"({"ok":true})", &kNoCall, "stop", kKeep},
        // invalid_tool_call: fires only when on.
        AnswerKindCase{"invalid_tool_call_on", spec(0, 0, true, false), &tools_offered(), "",
                       &kUnknownCall, "tool_calls", esc(Reason::invalid_tool_call)},
        AnswerKindCase{"invalid_tool_call_off", spec(0, 0, false, false), &tools_offered(), "",
                       &kUnknownCall, "tool_calls", kKeep},
        AnswerKindCase{"valid_tool_call_rule_on", spec(0, 0, true, true), &tools_offered(), "",
                       &kGoodCall, "tool_calls", kKeep},
        AnswerKindCase{"tool_call_nothing_offered", spec(0, 0, true, false), &kPlainText, "",
                       &kGoodCall, "tool_calls", esc(Reason::invalid_tool_call)},
        AnswerKindCase{"tool_call_no_requested_output", spec(0, 0, true, false), nullptr, "",
                       &kGoodCall, "tool_calls", esc(Reason::invalid_tool_call)},
        // invalid_json: fires only when on, and only for structured requests.
        AnswerKindCase{"invalid_json_on", spec(0, 0, false, true), &ok_schema(), R"({"ko":true})",
                       &kNoCall, "stop", esc(Reason::invalid_json)},
        AnswerKindCase{"invalid_json_on_prose", spec(20, 0, false, true), &ok_schema(), "no",
                       &kNoCall, "stop", esc(Reason::invalid_json)},
        AnswerKindCase{"invalid_json_off", spec(0, 0, false, false), &ok_schema(), "not json",
                       &kNoCall, "stop", kKeep},
        AnswerKindCase{"invalid_json_plain_request", spec(0, 0, false, true), &kPlainText,
                       "not json", &kNoCall, "stop", kKeep},
        // A tool call in a structured request is judged as a tool call.
        AnswerKindCase{"tool_call_in_structured_request", spec(0, 0, false, true), &ok_schema(), "",
                       &kGoodCall, "tool_calls", kKeep}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AnswerKindOrder, LengthBeforeInvalidToolCallBeforeInvalidJson) {
  AfterDraftSpec s = spec(0, 0, true, true);
  s.finish_reason_length = true;
  s.mean_logprob_under = -1.0;
  const Rules rules = after_draft_rules(s);
  const std::vector<double> low = {-5.0};
  Draft d{"", "length", low, true};
  d.tool_calls = kUnknownCall;
  d.requested = &tools_offered();
  EXPECT_EQ(judge(rules, d), esc(Reason::finish_reason_length));
  d.finish_reason = "tool_calls";
  EXPECT_EQ(judge(rules, d), esc(Reason::invalid_tool_call));
  Draft j{"oops", "stop", low, true};
  j.requested = &ok_schema();
  EXPECT_EQ(judge(rules, j), esc(Reason::invalid_json));
  j.text = R"({"ok":false})";
  EXPECT_EQ(judge(rules, j), esc(Reason::mean_logprob_under));  // confidence judges every kind
}

TEST(AnswerKindOf, Classifies) {
  Draft d{"hi", "", {}, false};
  EXPECT_EQ(kind_of(d), AnswerKind::text);
  d.requested = &ok_schema();
  EXPECT_EQ(kind_of(d), AnswerKind::structured);
  d.tool_call_open = true;
  EXPECT_EQ(kind_of(d), AnswerKind::tool_calls);
}

TEST(AnswerKindStream, InvalidJsonNeverFiresOnAPrefix) {
  const Rules rules = after_draft_rules(spec(0, 0, false, true));
  Draft d{R"({"ok":)", "", {}, false};
  d.requested = &ok_schema();
  EXPECT_EQ(judge(rules, d), kKeep);
  EXPECT_TRUE(can_still_escalate_later(rules, d));
  EXPECT_TRUE(hold_past_window(rules, d));
  d.complete = true;
  EXPECT_FALSE(hold_past_window(rules, d));
  EXPECT_EQ(judge(rules, d), esc(Reason::invalid_json));
}

TEST(AnswerKindStream, OpenToolCallIsHeldWhateverTheRules) {
  const Rules none = after_draft_rules(AfterDraftSpec{});
  Draft d{"", "", {}, false};
  d.requested = &tools_offered();
  EXPECT_FALSE(can_still_escalate_later(none, d));
  EXPECT_FALSE(hold_past_window(none, d));
  d.tool_call_open = true;
  EXPECT_TRUE(can_still_escalate_later(none, d));
  EXPECT_TRUE(hold_past_window(none, d));
}

TEST(AnswerKindStream, ToolCallCanStillComeWhenToolsAreOffered) {
  const Rules rules = after_draft_rules(spec(0, 0, true, false));
  Draft d{"Let me check.", "", {}, false};
  d.requested = &kPlainText;
  EXPECT_FALSE(can_still_escalate_later(rules, d));
  d.requested = &tools_offered();
  EXPECT_TRUE(can_still_escalate_later(rules, d));
  EXPECT_FALSE(hold_past_window(rules, d));  // text is held only for the token window
  // A completed call in a prefix is judged at once.
  d.tool_calls = kUnknownCall;
  EXPECT_EQ(judge(rules, d), esc(Reason::invalid_tool_call));
}

TEST(AnswerKindStream, StructuredPrefixIsNotHeldWhenInvalidJsonIsOff) {
  const Rules rules = after_draft_rules(spec(20, 0, false, false));
  Draft d{R"({"ok")", "", {}, false};
  d.requested = &ok_schema();
  EXPECT_FALSE(hold_past_window(rules, d));
}

}  // namespace
}  // namespace gw::policies
