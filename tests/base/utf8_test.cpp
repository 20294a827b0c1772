#include "base/utf8.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace gw::utf8 {
namespace {

struct CountCase {
  const char* name;
  std::string text;
  std::uint64_t chars;
};

class CodePointsTest : public ::testing::TestWithParam<CountCase> {};

TEST_P(CodePointsTest, CountsCharactersNotBytes) {
  EXPECT_EQ(code_points(GetParam().text), GetParam().chars);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CodePointsTest,
    ::testing::Values(CountCase{"empty", "", 0}, CountCase{"ascii", "hello world", 11},
                      CountCase{"latin_accents", "h\xC3\xA9llo w\xC3\xB6rld",
                                11},  // héllo wörld, 13 bytes
                      CountCase{"cjk", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 3},  // 日本語
                      CountCase{"emoji", "\xF0\x9F\x98\x80", 1},                    // 😀
                      // 👍🏽: a thumb and a skin-tone modifier are two code points, one glyph.
                      CountCase{"emoji_with_modifier", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", 2},
                      CountCase{"max_code_point", "\xF4\x8F\xBF\xBF", 1},
                      CountCase{"nul_is_a_character", std::string("a\0b", 3), 3},
                      CountCase{"lone_ff", "\xFF", 1}, CountCase{"lone_continuation", "\x80", 1},
                      CountCase{"continuations_after_ascii", "a\x80\x80", 3},
                      CountCase{"truncated_two_byte_at_end", "a\xC3", 2},
                      CountCase{"truncated_three_byte", "\xE2\x82", 2},
                      CountCase{"truncated_emoji_then_ascii", "\xF0\x9F\x98z", 4},
                      CountCase{"overlong_slash", "\xC0\xAF", 2},
                      CountCase{"overlong_three_byte", "\xE0\x80\xAF", 3},
                      CountCase{"surrogate", "\xED\xA0\x80", 3},
                      CountCase{"above_max", "\xF4\x90\x80\x80", 4},
                      CountCase{"invalid_between_valid", "\xC3\xA9\xFF\xC3\xA9", 3}),
    [](const auto& info) { return std::string(info.param.name); });

// ASCII is counted 32 and 8 bytes at a time: every run length around both sizes, before and
// after characters of each width and an invalid byte, counts as its pieces do one by one.
TEST(CodePoints, AsciiRunsOfEveryLengthAroundOtherCharacters) {
  const std::pair<std::string, std::uint64_t> pieces[] = {
      {"\xC3\xA9", 1}, {"\xE6\x97\xA5", 1}, {"\xF0\x9F\x98\x80", 1}, {"\xFF", 1}, {"\x80", 1}};
  for (std::size_t before = 0; before <= 70; ++before) {
    for (std::size_t after = 0; after <= 70; ++after) {
      for (const auto& [piece, count] : pieces) {
        const std::string text = std::string(before, 'a') + piece + std::string(after, 'b') + piece;
        EXPECT_EQ(code_points(text), before + after + 2 * count) << before << " " << after;
      }
    }
  }
  EXPECT_EQ(code_points(std::string(1 << 20, 'x') + "\xE2\x82"), (1u << 20) + 2);
}

TEST(SanitizeUtf8, KeepsValidText) {
  const std::string text = "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE6\x97\xA5";
  EXPECT_EQ(sanitize(text), text);
}

TEST(SanitizeUtf8, ReplacesEachInvalidByte) {
  EXPECT_EQ(sanitize("a\xFF"
                     "b\xE2\x82"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(SanitizeUtf8, KeepsTheCharacterCount) {
  const std::string text = "\xF0\x9F\x98z\xC0\xAF\xC3\xA9";
  EXPECT_EQ(code_points(sanitize(text)), code_points(text));
}

}  // namespace
}  // namespace gw::utf8
