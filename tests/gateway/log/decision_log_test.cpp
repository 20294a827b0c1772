#include "gateway/log/decision_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gw {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("gw-decision-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { fs::remove_all(path); }
};

config::Config two_models() {
  config::Config c;
  config::Model small, large;
  small.name = "phi-4-mini";
  small.price = {0.1, 0.4, 0};
  large.name = "gpt-oss-20b";
  large.price = {0.5, 2.0, 0};
  c.models = {small, large};
  c.routing.draft = "phi-4-mini";
  c.routing.escalate = "gpt-oss-20b";
  return c;
}

TEST(DecisionLine, EverySignalAndBothLegs) {
  const config::Config cfg = two_models();
  RequestTrace t;
  t.request_id = "r-1";
  t.route = Route::escalated;
  t.reason = "p10_logprob_under";
  t.decision.routed = t.decision.drafted = true;
  t.decision.prompt_chars = 42;
  t.decision.draft_chars = 7;
  t.decision.finish_reason = "stop";
  t.decision.refusal_matched = false;
  t.decision.logprobs = policies::summarize_logprobs(std::vector<double>{-0.1, -3.0}, 0.4);
  t.decision.prompt_text = "secret prompt";
  UpstreamLeg& d = t.new_leg(cfg.models[0]);
  d.prompt_tokens = 10, d.completion_tokens = 20, d.usage_reported = true, d.status = 200;
  UpstreamLeg& l = t.new_leg(cfg.models[1]);
  l.prompt_tokens = 10, l.completion_tokens = 30, l.usage_reported = true, l.status = 200;
  const auto j = nlohmann::json::parse(decision_line(t, cfg, false));
  EXPECT_EQ(j["schema"], "hg.decision/1");
  EXPECT_EQ(j["reason"], "p10_logprob_under");
  EXPECT_EQ(j["prompt_chars"], 42);
  EXPECT_FALSE(j.contains("prompt"));  // no prompt text without --log-prompts
  EXPECT_EQ(j["draft"]["chars"], 7);
  EXPECT_EQ(j["draft"]["refusal_matched"], false);
  EXPECT_EQ(j["draft"]["logprobs"]["min"], -3.0);
  EXPECT_EQ(j["draft"]["logprobs"]["p10"], -3.0);
  EXPECT_EQ(j["draft"]["logprobs"]["first_margin"], 0.4);
  EXPECT_EQ(j["draft"]["model"], "phi-4-mini");
  EXPECT_EQ(j["escalate"]["model"], "gpt-oss-20b");
  EXPECT_DOUBLE_EQ(j["draft"]["cost_usd"].get<double>(), (10 * 0.1 + 20 * 0.4) / 1e6);
  EXPECT_DOUBLE_EQ(j["cost_usd"].get<double>(), (10 * 0.1 + 20 * 0.4 + 10 * 0.5 + 30 * 2.0) / 1e6);
  EXPECT_DOUBLE_EQ(j["baseline_cost_usd"].get<double>(), (10 * 0.5 + 30 * 2.0) / 1e6);
  EXPECT_EQ(nlohmann::json::parse(decision_line(t, cfg, true))["prompt"], "secret prompt");
  t.decision.routed = false;
  EXPECT_EQ(decision_line(t, cfg, false), "");  // direct requests are not logged
}

TEST(DecisionLine, BeforeDraftHasNoDraftLeg) {
  const config::Config cfg = two_models();
  RequestTrace t;
  t.route = Route::escalated;
  t.reason = "prompt_chars_over";
  t.decision.routed = true;
  t.new_leg(cfg.models[1]);
  const auto j = nlohmann::json::parse(decision_line(t, cfg, false));
  EXPECT_TRUE(j["draft"].is_null());
  EXPECT_EQ(j["escalate"]["model"], "gpt-oss-20b");
}

TEST(NoteValidity, ToolCallsAndStructuredOutput) {
  policies::RequestedOutput requested;
  requested.tools.push_back({"get_weather", {"city"}});
  const std::vector<policies::ToolCall> calls{{"get_weather", R"({"town":"Oslo"})", true}};
  policies::Draft d{"", "tool_calls", {}, true};
  d.requested = &requested;
  d.tool_calls = calls;
  DecisionSignals s;
  note_validity(s, d);
  EXPECT_EQ(s.tool_calls_valid, false);  // the required "city" is missing
  EXPECT_FALSE(s.structured_valid);

  policies::RequestedOutput json_format;
  json_format.format.kind = policies::FormatKind::json_object;
  policies::Draft j{"{\"a\": 1", "stop", {}, true};
  j.requested = &json_format;
  note_validity(s, j);
  EXPECT_FALSE(s.tool_calls_valid);
  EXPECT_EQ(s.structured_valid, false);  // cut JSON
  policies::Draft ok{"{\"a\": 1}", "stop", {}, true};
  ok.requested = &json_format;
  note_validity(s, ok);
  EXPECT_EQ(s.structured_valid, true);
  ok.complete = false;  // a prefix is not judged for JSON
  note_validity(s, ok);
  EXPECT_FALSE(s.structured_valid);
}

TEST(DecisionLog, AppendsAndRotatesPastTheBound) {
  TempDir dir;
  const auto path = (dir.path / "decisions.jsonl").string();
  DecisionLog log;
  const std::string line(100, 'x');
  for (int i = 0; i < 25; ++i)
    log.append(path, 1000, "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + line + "\"}");
  log.flush();
  const auto current = lines_of(path);
  const auto older = lines_of(path + ".1");
  EXPECT_FALSE(older.empty());
  EXPECT_LE(fs::file_size(path), 1000u);
  EXPECT_LE(fs::file_size(path + ".1"), 1000u);
  // The newest lines are in the current file, whole, in order.
  ASSERT_FALSE(current.empty());
  EXPECT_EQ(nlohmann::json::parse(current.back())["i"], 24);
  EXPECT_EQ(log.dropped_lines(), 0u);
}

TEST(DecisionLog, AFullBacklogDropsAndCounts) {
  TempDir dir;
  const auto path = (dir.path / "d.jsonl").string();
  DecisionLog log(/*backlog_bytes=*/1);  // nothing fits
  log.append(path, 1 << 20, "{}");
  log.flush();
  EXPECT_EQ(log.dropped_lines(), 1u);
  EXPECT_FALSE(fs::exists(path));
}

TEST(DecisionLog, AnUnwritablePathIsCountedNotFatal) {
  DecisionLog log;
  log.append("/nonexistent-dir/d.jsonl", 1 << 20, "{}");
  log.flush();
  EXPECT_EQ(log.write_errors(), 1u);
}

// Request threads and shadow calls append concurrently, and in-flight requests of an older
// config keep naming its path after a reload changed it: every line lands whole in its file.
// Also run under ThreadSanitizer.
TEST(DecisionLog, ManyThreadsAndTwoPathsKeepEveryLineWhole) {
  TempDir dir;
  const auto a = (dir.path / "a.jsonl").string();
  const auto b = (dir.path / "b.jsonl").string();
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 300;
  DecisionLog log;
  std::vector<std::thread> writers;
  writers.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        log.append((i + t) % 2 ? a : b, 1u << 30,
                   "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}");
      }
    });
  }
  for (auto& w : writers) w.join();
  log.flush();
  EXPECT_EQ(log.dropped_lines(), 0u);
  EXPECT_EQ(log.write_errors(), 0u);
  std::size_t total = 0;
  for (const auto& path : {a, b}) {
    for (const auto& line : lines_of(path)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << line;
      EXPECT_EQ(path == a, (j["i"].get<int>() + j["t"].get<int>()) % 2 == 1) << line;
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kThreads * kLinesPerThread));
}

}  // namespace
}  // namespace gw
