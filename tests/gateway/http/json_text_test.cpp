#include "gateway/http/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gw::http {
namespace {

using nlohmann::json;

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(AppendJsonString, Escapes) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"C:\\path", R"("C:\\path")"},
      {"a\nb\r\tc", R"("a\nb\r\tc")"},
      {std::string("\x01\x1f", 2), R"("\u0001\u001f")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"héllo 日本", "\"héllo 日本\""},  // UTF-8 passes through
  };
  for (const auto& c : cases) {
    EXPECT_EQ(json_string(c.in), c.out);
    EXPECT_EQ(json::parse(json_string(c.in)).get<std::string>(), c.in);  // round trip
  }
}

TEST(AppendJsonString, Appends) {
  std::string out = "{\"k\":";
  append_json_string(out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

// A log line must stay parseable JSON even when a logged string is not valid UTF-8 (a client's
// x-request-id, a raw request target, an upstream's error text).
TEST(AppendJsonString, InvalidUtf8StillParses) {
  std::string in = "bad \xff\xfe byte";
  EXPECT_TRUE(json::accept(json_string(in))) << json_string(in);
}

TEST(JsonNestingWithin, CountsArraysAndObjectsButNotBracketsInStrings) {
  struct Case {
    std::string text;
    int max_depth;
    bool within;
  } cases[] = {
      {"{}", 1, true},
      {"{\"a\":[1]}", 1, false},
      {"{\"a\":[1]}", 2, true},
      {R"({"s":"[[[[{{{{"})", 1, true},
      {R"({"s":"\"[[[["})", 1, true},  // an escaped quote does not end the string
      {std::string(65, '[') + std::string(65, ']'), 64, false},
      {std::string(64, '[') + std::string(64, ']'), 64, true},
      {"not json at all", 0, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(json_nesting_within(c.text, c.max_depth), c.within) << c.text;
  }
}

}  // namespace
}  // namespace gw::http
