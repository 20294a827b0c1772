#include "evaluation/routellm_import.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace gw::eval {
namespace {

const std::string kDir = std::string(GW_EVAL_FIXTURES) + "/routellm/";

TEST(ReadCsv, QuotesCommasNewlinesAndDoubledQuotes) {
  std::istringstream in("a,b\n\"x, \"\"y\"\"\nz\",2\r\nlast,\n");
  const auto r = read_csv(in);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1][0], "x, \"y\"\nz");
  EXPECT_EQ(r[1][1], "2");
  EXPECT_EQ(r[2][1], "");
  std::istringstream bad("\"open");
  EXPECT_THROW(read_csv(bad), std::runtime_error);
}

TEST(ImportGsm8k, RowsWithoutTheContaminatedPrompts) {
  const auto contaminated = read_contaminated({kDir + "gsm8k_contaminated_prompts.jsonl"});
  EXPECT_EQ(contaminated.size(), 2u);
  ImportCounts counts;
  const auto rows = import_gsm8k(kDir + "gsm8k_responses.csv", contaminated, counts);
  EXPECT_EQ(counts.read, 40u);
  EXPECT_EQ(counts.dropped_contaminated, 2u);
  ASSERT_EQ(rows.size(), 38u);
  const auto& r = rows[0];
  EXPECT_EQ(r["schema"], "hg.outcome/1");
  EXPECT_EQ(r["source"], "routellm-gsm8k");
  EXPECT_EQ(r["arms"]["draft"]["model"], kRouteLlmWeak);
  EXPECT_EQ(r["arms"]["escalate"]["model"], kRouteLlmStrong);
  const double q = r["arms"]["draft"]["quality"]["score"];
  EXPECT_TRUE(q == 0.0 || q == 1.0);
  EXPECT_TRUE(r["arms"]["draft"]["usage"]["estimated"].get<bool>());
  for (const auto& row : rows) {
    EXPECT_EQ(contaminated.count(row["prompt"].get<std::string>()), 0u);
  }
}

TEST(ImportMtBench, MeanScoreOverTurnsScaledAndContaminationDropped) {
  const auto contaminated = read_contaminated({kDir + "mtbench_contaminated_prompts.jsonl"});
  ImportCounts counts;
  const auto rows =
      import_mtbench(kDir + "judgements.jsonl", kDir + "question.jsonl", contaminated, counts);
  EXPECT_EQ(counts.read, 3u);
  EXPECT_EQ(counts.dropped_contaminated, 1u);  // question 82: its second turn is listed
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["id"], "mtbench-81");
  EXPECT_DOUBLE_EQ(rows[0]["arms"]["draft"]["quality"]["score"].get<double>(), (5.0 - 1) / 9);
  EXPECT_DOUBLE_EQ(rows[0]["arms"]["escalate"]["quality"]["score"].get<double>(),
                   1.0 - 1.0 / 9 * 1);
  // Question 83's strong turn 2 was a failed judgement (-1): only turn 1 counts.
  EXPECT_DOUBLE_EQ(rows[1]["arms"]["escalate"]["quality"]["score"].get<double>(), 1.0);
  EXPECT_EQ(rows[0]["prompt"], "Write a haiku about routers.");
  EXPECT_EQ(rows[0]["arms"]["draft"]["text"], "Answer of Mixtral-8x7B-Instruct-v0.1 to 81");
}

}  // namespace
}  // namespace gw::eval
