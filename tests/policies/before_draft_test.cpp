#include "policies/before_draft.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace gw::policies {
namespace {

using testing::before_draft_rules;
using testing::kSpecMatch;

const Verdict kDraft = Verdict::keep();
const Verdict kTooLong = Verdict::escalate_for(Reason::prompt_chars_over);
const Verdict kMatch = Verdict::escalate_for(Reason::match);

PromptStats user_says(const std::string& text) {
  return prompt_stats(nlohmann::json::array({{{"role", "user"}, {"content", text}}}));
}

struct BeforeDraftCase {
  const char* name;
  BeforeDraftSpec spec;
  std::string prompt;
  Verdict expected;
};

class BeforeDraftTest : public ::testing::TestWithParam<BeforeDraftCase> {};

TEST_P(BeforeDraftTest, Decides) {
  const auto& c = GetParam();
  EXPECT_EQ(before_draft(before_draft_rules(c.spec), user_says(c.prompt)), c.expected);
}

const std::string k10(10, 'x');

INSTANTIATE_TEST_SUITE_P(
    Table, BeforeDraftTest,
    ::testing::Values(
        BeforeDraftCase{
            "no_rules", {}, "diagnose this incident " + std::string(100000, 'x'), kDraft},
        BeforeDraftCase{"empty_prompt", {10, {kSpecMatch}}, "", kDraft},
        BeforeDraftCase{"chars_off_at_zero", {0, {}}, std::string(100000, 'x'), kDraft},
        BeforeDraftCase{"chars_below", {10, {}}, std::string(9, 'x'), kDraft},
        BeforeDraftCase{"chars_at_threshold", {10, {}}, k10, kDraft},
        BeforeDraftCase{"chars_above", {10, {}}, std::string(11, 'x'), kTooLong},
        BeforeDraftCase{"threshold_one", {1, {}}, "ab", kTooLong},
        // 11 characters in 13 bytes: over 10, not over 11.
        BeforeDraftCase{"accents_over", {10, {}}, "h\xC3\xA9llo w\xC3\xB6rld", kTooLong},
        BeforeDraftCase{"accents_at", {11, {}}, "h\xC3\xA9llo w\xC3\xB6rld", kDraft},
        // 10 CJK characters are 30 bytes: counted as 10.
        BeforeDraftCase{
            "cjk_at",
            {10, {}},
            "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5"
            "\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5",
            kDraft},
        // 10 emoji are 40 bytes: counted as 10.
        BeforeDraftCase{
            "emoji_at",
            {10, {}},
            "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"
            "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80",
            kDraft},
        BeforeDraftCase{
            "invalid_utf8_bytes_count_one_each", {10, {}}, std::string(11, '\xFF'), kTooLong},
        BeforeDraftCase{"match", {0, {kSpecMatch}}, "Summarise the incident timeline", kMatch},
        BeforeDraftCase{
            "match_second_pattern", {0, {"nothing", "(?i)urgent"}}, "URGENT: help", kMatch},
        BeforeDraftCase{"no_match", {0, {kSpecMatch}}, "Write a haiku about autumn", kDraft},
        BeforeDraftCase{
            "match_under_length_limit", {100, {kSpecMatch}}, "review this contract", kMatch},
        // Both fire: the length rule is checked first.
        BeforeDraftCase{
            "both_fire_length_wins", {10, {kSpecMatch}}, "review this contract please", kTooLong}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BeforeDraft, MatchSeesSystemMessagesToo) {
  const auto rules = before_draft_rules({0, {kSpecMatch}});
  const auto prompt = prompt_stats(nlohmann::json::parse(R"([
    {"role": "system", "content": "You triage production incidents."},
    {"role": "user", "content": "what now?"}
  ])"));
  EXPECT_EQ(before_draft(rules, prompt), kMatch);
}

TEST(BeforeDraft, MatchIgnoresAssistantMessages) {
  const auto rules = before_draft_rules({0, {kSpecMatch}});
  const auto prompt = prompt_stats(nlohmann::json::parse(R"([
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "Is this about a contract?"},
    {"role": "user", "content": "no, a poem"}
  ])"));
  EXPECT_EQ(before_draft(rules, prompt), kDraft);
}

TEST(BeforeDraft, MessagesAreNotGluedIntoOneWord) {
  // "sub" + "contract" in two messages must not read as "subcontract".
  const auto rules = before_draft_rules({0, {"(?i)\\bcontract"}});
  const auto prompt = prompt_stats(nlohmann::json::parse(R"([
    {"role": "system", "content": "sub"}, {"role": "user", "content": "contract"}
  ])"));
  EXPECT_EQ(before_draft(rules, prompt), kMatch);
}

}  // namespace
}  // namespace gw::policies
