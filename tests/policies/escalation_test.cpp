#include "policies/escalation.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace gw::policies {
namespace {

using nlohmann::json;

const json kMessages = json::parse(R"([
  {"role": "system", "content": "Be precise."},
  {"role": "user", "content": [{"type": "text", "text": "Capital of France?"}]}
])");

TEST(OnEscalate, ParsesAndPrints) {
  EXPECT_EQ(parse_on_escalate("replace"), OnEscalate::replace);
  EXPECT_EQ(parse_on_escalate("refine"), OnEscalate::refine);
  EXPECT_EQ(parse_on_escalate("Refine"), std::nullopt);
  EXPECT_EQ(parse_on_escalate(""), std::nullopt);
  EXPECT_EQ(to_string(OnEscalate::replace), "replace");
  EXPECT_EQ(to_string(OnEscalate::refine), "refine");
}

struct InstructionCase {
  const char* name;
  std::string prompt;
  std::string draft;
  std::string expected;
};

class RefineInstruction : public ::testing::TestWithParam<InstructionCase> {};

TEST_P(RefineInstruction, FillsThePlaceholders) {
  const auto& c = GetParam();
  EXPECT_EQ(refine_instruction(c.prompt, c.draft), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RefineInstruction,
    ::testing::Values(InstructionCase{"spec_default", "Improve clarity but keep facts:\n{draft}",
                                      "Paris.", "Improve clarity but keep facts:\nParis."},
                      InstructionCase{"placeholder_first", "{draft}\n^ improve this", "Paris.",
                                      "Paris.\n^ improve this"},
                      InstructionCase{"placeholder_only", "{draft}", "Paris.", "Paris."},
                      InstructionCase{"several", "A: {draft}\nB: {draft}{draft}", "x",
                                      "A: x\nB: xx"},
                      InstructionCase{"no_placeholder_appends", "Polish this answer.", "Paris.",
                                      "Polish this answer.\n\nParis."},
                      InstructionCase{"empty_prompt", "", "Paris.", "\n\nParis."},
                      InstructionCase{"empty_draft", "Fix: {draft}!", "", "Fix: !"},
                      InstructionCase{"near_misses_are_text", "{draf} {Draft} { draft}", "x",
                                      "{draf} {Draft} { draft}\n\nx"},
                      InstructionCase{"braces_around", "{{draft}}", "x", "{x}"},
                      // One pass: a placeholder inside the draft is not expanded again.
                      InstructionCase{"draft_contains_placeholder", "Fix: {draft}",
                                      "use {draft} here", "Fix: use {draft} here"},
                      InstructionCase{"unicode",
                                      "\xC3\x9C"
                                      "berarbeite: {draft}",
                                      "\xE6\x97\xA5\xF0\x9F\x98\x80",
                                      "\xC3\x9C"
                                      "berarbeite: \xE6\x97\xA5\xF0\x9F\x98\x80"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(EscalationMessages, ReplaceKeepsTheOriginal) {
  EXPECT_EQ(escalation_messages(OnEscalate::replace, kMessages, "Paris.", "{draft}"), kMessages);
}

TEST(EscalationMessages, RefineAppendsDraftAndInstruction) {
  const json out = escalation_messages(OnEscalate::refine, kMessages, "Paris",
                                       "Improve clarity but keep facts:\n{draft}");
  json expected = kMessages;
  expected.push_back({{"role", "assistant"}, {"content", "Paris"}});
  expected.push_back({{"role", "user"}, {"content", "Improve clarity but keep facts:\nParis"}});
  EXPECT_EQ(out, expected);
}

TEST(EscalationMessages, RefineWithoutPlaceholder) {
  const json out = escalation_messages(OnEscalate::refine, kMessages, "Paris", "Polish it.");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3]["content"], "Polish it.\n\nParis");
}

TEST(EscalationMessages, RefineWithSeveralPlaceholders) {
  const json out = escalation_messages(OnEscalate::refine, kMessages, "P", "{draft}/{draft}");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3]["content"], "P/P");
}

TEST(EscalationMessages, RefineOnMessagesThatAreNotAnArray) {
  const json out = escalation_messages(OnEscalate::refine, json::object(), "P", "{draft}");
  ASSERT_TRUE(out.is_array());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["role"], "assistant");
  EXPECT_EQ(out[1]["role"], "user");
}

TEST(EscalationMessages, InvalidUtf8DraftStillSerialises) {
  const json out = escalation_messages(OnEscalate::refine, kMessages, "Par\xFFis", "Fix: {draft}");
  std::string body;
  ASSERT_NO_THROW(body = out.dump());
  EXPECT_EQ(out[2]["content"], "Par\xEF\xBF\xBDis");
  EXPECT_EQ(out[3]["content"], "Fix: Par\xEF\xBF\xBDis");
}

TEST(EscalationMessages, UnicodeDraftIsKept) {
  const std::string draft = "h\xC3\xA9llo \xE6\x97\xA5\xF0\x9F\x98\x80";
  const json out = escalation_messages(OnEscalate::refine, kMessages, draft, "{draft}");
  EXPECT_EQ(out[2]["content"], draft);
  EXPECT_EQ(json::parse(out.dump()), out);
}

}  // namespace
}  // namespace gw::policies
