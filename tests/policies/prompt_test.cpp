#include "policies/prompt.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace gw::policies {
namespace {

using nlohmann::json;

struct PromptCase {
  const char* name;
  json messages;
  std::string text;
  std::uint64_t chars;
};

class PromptStatsTest : public ::testing::TestWithParam<PromptCase> {};

TEST_P(PromptStatsTest, MeasuresSystemAndUserText) {
  const auto stats = prompt_stats(GetParam().messages);
  EXPECT_EQ(stats.text, GetParam().text);
  EXPECT_EQ(stats.chars, GetParam().chars);
  // Without the text (no match rule reads it), the same count and no copy of the prompt.
  const auto counted = prompt_stats(GetParam().messages, false);
  EXPECT_EQ(counted.chars, GetParam().chars);
  EXPECT_TRUE(counted.text.empty());
}

json msg(const char* role, json content) {
  return {{"role", role}, {"content", content}};
}
json text_part(const char* text) {
  return {{"type", "text"}, {"text", text}};
}

INSTANTIATE_TEST_SUITE_P(
    Table, PromptStatsTest,
    ::testing::Values(
        PromptCase{"empty_array", json::array(), "", 0},
        PromptCase{"one_user", json::array({msg("user", "hello")}), "hello", 5},
        // Joined with "\n"; the separator is not counted.
        PromptCase{"system_then_user", json::array({msg("system", "be brief"), msg("user", "hi")}),
                   "be brief\nhi", 10},
        PromptCase{"assistant_tool_ignored",
                   json::array({msg("user", "a"), msg("assistant", "bbbb"), msg("tool", "cc"),
                                msg("user", "e")}),
                   "a\ne", 2},
        // issue 10: `developer` (the openai SDK's `system` for reasoning models) is read.
        PromptCase{
            "developer_read_like_system",
            json::array({msg("developer", "dd"), msg("assistant", "bbbb"), msg("user", "e")}),
            "dd\ne", 3},
        PromptCase{"parts",
                   json::array({msg("user", json::array({text_part("look at"),
                                                         {{"type", "image_url"},
                                                          {"image_url", {{"url", "x"}}}},
                                                         text_part("this")}))}),
                   "look at\nthis", 11},
        PromptCase{"odd_parts",
                   json::array({msg("user", json::array({42,
                                                         "bare string",
                                                         json::object(),
                                                         {{"type", "text"}},
                                                         {{"type", "text"}, {"text", 7}},
                                                         {{"text", "no type"}},
                                                         {{"type", 1}, {"text", "bad type"}},
                                                         text_part("ok")}))}),
                   "ok", 2},
        PromptCase{"not_an_array_object", json{{"role", "user"}, {"content", "x"}}, "", 0},
        PromptCase{"not_an_array_string", json("hello"), "", 0}, PromptCase{"null", json(), "", 0},
        PromptCase{
            "odd_entries",
            json::array({42, "user", nullptr, json::array({"user", "x"}), msg("user", "kept")}),
            "kept", 4},
        PromptCase{"odd_messages",
                   json::array({json{{"role", "user"}}, msg("user", nullptr), msg("user", 12),
                                msg("user", json::object()), json{{"content", "no role"}},
                                json{{"role", 3}, {"content", "bad role"}}, msg("system", "kept")}),
                   "kept", 4},
        PromptCase{"latin_accents", json::array({msg("user", "h\xC3\xA9llo w\xC3\xB6rld")}),
                   "h\xC3\xA9llo w\xC3\xB6rld", 11},
        PromptCase{"cjk",
                   json::array({msg("user", "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C")}),
                   "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C", 4},  // 你好世界
        PromptCase{"emoji", json::array({msg("user", "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89!")}),
                   "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89!", 3},  // 😀🎉!
        // A json built in code (not parsed) can hold invalid UTF-8: counted byte by byte.
        PromptCase{"invalid_utf8", json::array({msg("user", "a\xFF\xC3")}), "a\xFF\xC3", 3}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PromptStats, ParsedRequestBody) {
  const auto body = json::parse(R"({
    "model": "auto",
    "messages": [
      {"role": "system", "content": "You are a lawyer."},
      {"role": "user", "content": [{"type": "text", "text": "Review this contract"}]}
    ]
  })");
  const auto stats = prompt_stats(body["messages"]);
  EXPECT_EQ(stats.text, "You are a lawyer.\nReview this contract");
  EXPECT_EQ(stats.chars, 17u + 20u);
}

}  // namespace
}  // namespace gw::policies
