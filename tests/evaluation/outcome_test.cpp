#include "evaluation/outcome.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gw::eval {
namespace {

std::string temp_path() {
  return (std::filesystem::temp_directory_path() /
          ("outcome_test_" + std::to_string(::getpid()) + ".jsonl"))
      .string();
}

TEST(Jsonl, PartialLastLineIsDroppedAndCutBeforeAppending) {
  const std::string path = temp_path();
  {
    std::ofstream f(path, std::ios::trunc);
    f << "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c";  // killed mid-write
  }
  JsonlFile r = read_jsonl(path);
  EXPECT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.dropped_partial_tail);
  {
    JsonlWriter w(path);
    w.write({{"id", "c"}});
  }
  r = read_jsonl(path);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[2]["id"], "c");
  EXPECT_FALSE(r.dropped_partial_tail);
  EXPECT_TRUE(r.problems.empty());
  std::filesystem::remove(path);
}

TEST(Jsonl, MissingFileIsEmptyAndBadLinesAreReported) {
  EXPECT_TRUE(read_jsonl("/nonexistent/x.jsonl").rows.empty());
  const std::string path = temp_path();
  {
    std::ofstream f(path, std::ios::trunc);
    f << "{\"id\":\"a\"}\nnot json\n[1]\n";
  }
  const JsonlFile r = read_jsonl(path);
  EXPECT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.problems.size(), 2u);
  std::filesystem::remove(path);
}

TEST(Outcome, ArmsAndNumbers) {
  const json row = json::parse(R"({"arms":{"draft":{"cost_usd":0.5,"usage":{"prompt_tokens":3}},
                                  "auto":null}})");
  ASSERT_NE(find_arm(row, "draft"), nullptr);
  EXPECT_EQ(find_arm(row, "auto"), nullptr);
  EXPECT_EQ(number_at(*find_arm(row, "draft"), "cost_usd"), 0.5);
  EXPECT_EQ(number_at(*find_arm(row, "draft"), "usage", "prompt_tokens"), 3);
  EXPECT_FALSE(number_at(*find_arm(row, "draft"), "missing"));
}

}  // namespace
}  // namespace gw::eval
