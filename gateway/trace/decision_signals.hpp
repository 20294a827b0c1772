#pragma once
// What the routing rules read for one routed (`auto`) request, kept in its RequestTrace so the
// decision log (gateway/log/decision_log.hpp) can write every signal, not only the one that
// fired. Filled by the hybrid flow only while a decision log is configured.

#include <cstdint>
#include <optional>
#include <string>

#include "policies/logprob_summary.hpp"

namespace gw {

struct DecisionSignals {
  bool routed = false;   // an `auto` request went through the rules
  bool drafted = false;  // the judge saw a draft
  std::uint64_t prompt_chars = 0;
  std::uint64_t draft_chars = 0;
  std::string finish_reason;
  bool complete = true;  // false: the verdict was on a held stream prefix
  bool refusal_matched = false;
  std::uint64_t tool_calls = 0;
  std::optional<bool> tool_calls_valid;          // nullopt: no tool call to check
  std::optional<bool> structured_valid;          // nullopt: no response_format JSON, or a prefix
  policies::LogprobSummary logprobs;             // of what was judged last
  std::optional<policies::LogprobSummary> hold;  // of the held prefix, when a prefix was judged
  std::string prompt_text;                       // only with --log-prompts / server.log_prompts
  std::string draft_text;                        // only with --log-prompts / server.log_prompts
};

}  // namespace gw
