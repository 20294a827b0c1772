#pragma once
// `eval run`: every item of a question set through a running gateway to each arm, one
// hg.outcome/1 row per item, appended as each item finishes (resumable).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluation/http_client.hpp"
#include "gateway/config/config.hpp"

namespace gw::eval {

inline constexpr unsigned kDefaultConcurrency = 4;
inline constexpr unsigned kMaxConcurrency = 64;
inline constexpr uint64_t kDefaultSeed = 7;
inline constexpr uint32_t kDefaultHoldTokens = 24;
inline constexpr int kDraftTopLogprobs = 2;

enum class StreamArms { none, auto_only, all };

struct RunOptions {
  std::string set_path;
  std::string out_path;
  HttpEndpoint gateway;
  std::optional<HttpEndpoint> refine_gateway;  // a second gateway with on_escalate: refine
  std::string api_key;
  std::vector<std::string> arms{"draft", "escalate", "auto"};
  std::string draft_model, escalate_model, alias = "auto";
  config::Snapshot config;  // prices and hold_tokens; may be null (cost then null)
  unsigned concurrency = kDefaultConcurrency;
  uint64_t seed = kDefaultSeed;
  StreamArms stream = StreamArms::auto_only;
  uint32_t timeout_ms = kDefaultRequestTimeoutMs;
  size_t limit = 0;  // 0 = every item
  bool quiet = false;
};

struct RunStats {
  size_t total = 0, skipped = 0, done = 0, failed_arms = 0;
};

// Throws std::runtime_error on unusable input (set unreadable, output unwritable).
RunStats run_eval(const RunOptions& options);

// USD for `usage` on `model` under `config`'s prices; nullopt when unknown.
std::optional<double> usage_cost(const config::Config* config, const std::string& model,
                                 std::optional<uint64_t> prompt_tokens,
                                 std::optional<uint64_t> completion_tokens,
                                 std::optional<double> seconds);

int run_command(int argc, char** argv);

}  // namespace gw::eval
