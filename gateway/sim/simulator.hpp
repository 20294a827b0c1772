#pragma once
// Public API of llm-sim, an OpenAI-compatible model simulator. Boost-free on purpose: the
// gateway's --demo mode includes it without pulling Beast/Asio templates into its headers.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::sim {

// How one simulated model behaves when no directive overrides it.
struct ModelProfile {
  std::string name;
  uint32_t ttft_ms = 0;
  double tokens_per_s = 0;  // 0 = no delay between tokens
  uint32_t answer_tokens = 60;
  double logprob = -0.2;
  std::string text;       // fixed answer; empty = generated from the built-in corpus
  double accuracy = 0.8;  // share of eval/questions.jsonl items answered right (eval_answers.hpp)
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port; start() returns the one bound
  unsigned threads = 1;
  uint64_t seed = 1;
  std::vector<ModelProfile> models;  // empty = any model name accepted with a default profile
};

// Counters served at GET /sim/stats.
struct Stats {
  uint64_t requests = 0;  // POST /v1/chat/completions received
  uint64_t open_connections = 0;
  uint64_t active_streams = 0;
  uint64_t aborted_streams = 0;  // responses whose client went away before the end
};

class Simulator {
 public:
  explicit Simulator(Options options);
  ~Simulator();  // stops if still running
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds every acceptor and starts the worker threads; throws std::system_error when the
  // address cannot be bound, std::invalid_argument when the options are unusable.
  uint16_t start();
  // Closes every listener and connection (in-flight responses are dropped) and joins threads.
  void stop();

  uint16_t port() const;
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "NAME" or "NAME:ttft_ms=50,tokens_per_s=200,answer_tokens=40,logprob=-0.3,accuracy=0.7,text=..."
// (text= takes the rest of the spec, commas included). Throws std::invalid_argument.
ModelProfile parse_profile(std::string_view spec);

}  // namespace gw::sim
