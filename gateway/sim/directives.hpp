#pragma once
// Scripted behaviours: `[sim:NAME]`, `[sim:NAME=VALUE]`, optionally `@MODEL`-scoped, found in the
// last user message. Pure parsing, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::sim {

struct Directive {
  std::string name;
  std::string value;  // empty when the directive has no `=VALUE`
  std::string model;  // empty = applies to every model
};

std::vector<Directive> find_directives(std::string_view text);
// The text with every `[sim:...]` removed (what `echo` answers).
std::string strip_directives(std::string_view text);

// The directives that apply to one model, decoded. Unknown names and bad values are ignored so a
// typo degrades to a normal answer rather than a failure the test did not ask for.
struct Script {
  bool refuse = false;
  bool short_answer = false;
  bool long_answer = false;
  std::optional<uint32_t> tokens;
  std::optional<std::string> text;
  bool force_length = false;
  std::optional<double> logprob;
  std::optional<double> min_logprob;   // min_logprob=X: one token dips to X
  std::optional<double> first_margin;  // first_margin=X: first token's top-1 minus top-2 (>= 0)
  std::optional<uint32_t> ttft_ms;
  std::optional<double> tokens_per_s;
  std::optional<unsigned> error_status;
  std::optional<uint32_t> retry_after_s;  // error answers carry retry-after and x-ratelimit-*
  bool garbage = false;
  bool empty = false;
  std::optional<uint32_t> cut_after;
  bool stall = false;
  std::optional<uint32_t> stall_after;
  bool no_usage = false;
  bool echo = false;
  // Agents (gateway/sim/tool_calls.hpp): tool calls when the request offers tools.
  std::optional<std::string> tool_name;  // tool=NAME: call NAME (offered or not)
  bool no_tool = false;                  // no_tool: answer with text although tools are offered
  bool tool_args_not_object = false;     // tool_args=not_object: arguments are a JSON array
  bool tool_missing_arg = false;         // tool_args=missing: the first required one left out
  std::optional<std::string> preamble;   // preamble=TEXT: text before the call ('_' = space)
  std::optional<uint32_t> tool_pieces;   // tool_pieces=N: stream the arguments in N deltas
  std::optional<uint32_t> tool_count;    // tool_calls=N: N parallel calls
  // Structured output, when response_format asks for JSON.
  bool bad_json = false;      // bad_json: the JSON cut in half
  bool json_missing = false;  // json_missing: the first required property left out
};

Script script_for(const std::vector<Directive>& directives, std::string_view model);

}  // namespace gw::sim
