#pragma once
// The gateway's configuration: plain structs with their defaults in place.
// A loaded Config is immutable and shared (`std::shared_ptr<const Config>`);
// a reload builds a new one and swaps it, each request keeps the one it began with.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/escalation.hpp"

namespace gw::config {

// "host:port" as written in `server.listen`; host is an IP literal or "localhost"
// (an IPv6 host is stored without its brackets: "[::1]:8080" -> "::1").
struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

struct Server {
  ListenAddress listen{"127.0.0.1", 8080};
  ListenAddress admin_listen{"127.0.0.1", 9090};
  unsigned threads = 0;  // 0 = one per core
  std::uint64_t max_body_bytes = 1048576;
  std::uint32_t max_header_bytes = 16384;
  std::uint32_t request_timeout_ms = 300000;  // whole request, streams included
  std::uint32_t header_timeout_ms = 10000;    // slow client: request head must arrive by then
  std::uint32_t idle_timeout_ms = 60000;      // keep-alive connection with no request
  std::uint32_t drain_timeout_ms = 30000;     // SIGTERM: in-flight requests get this long
  bool log_prompts = false;                   // debug only: log prompt text
  bool playground = true;                     // serve the browser page at / and /playground
};

struct Cors {
  std::vector<std::string> allow_origins{"*"};  // exact origins, "*" or "null"
};

struct Auth {
  std::string api_keys_env;           // empty = open gateway
  std::vector<std::string> api_keys;  // read from api_keys_env at load time
};

struct Price {
  double input_per_mtok = 0;   // USD per 1M prompt tokens
  double output_per_mtok = 0;  // USD per 1M completion tokens
  double per_second = 0;       // USD per second of generation (local hardware)
};

// An upstream base URL such as "https://host:443/v1", split once at load
// (an IPv6 host is stored without its brackets).
struct UpstreamUrl {
  bool tls = false;
  std::string host;
  std::uint16_t port = 80;
  std::string base_path;  // "/v1"; requests go to base_path + "/chat/completions"
};

struct Model {
  std::string name;                  // the name clients use (the key under `models:`)
  std::string upstream;              // as written
  UpstreamUrl url;                   // parsed
  std::string upstream_model;        // the name sent upstream; default: `name`
  std::string api_key_env;           // optional
  std::string api_key;               // read from api_key_env at load; never logged
  std::uint32_t timeout_ms = 60000;  // longest upstream silence: before headers and between chunks
  std::uint32_t connect_timeout_ms = 5000;  // TCP (+TLS) connect
  // A pooled keep-alive connection idle this long is closed (by a timer). Under the keep-alive
  // timeout of common upstream servers (uvicorn/vLLM: 5 s), so a reused one is rarely stale.
  std::uint32_t idle_timeout_ms = 4000;
  Price price;
};

using OnEscalate = policies::OnEscalate;  // one enum for config and policy

struct BeforeDraft {
  std::uint64_t prompt_chars_over = 0;  // 0 = off
  std::vector<std::string> match;       // RE2 syntax, validated at load
};

struct AfterDraft {
  std::uint64_t chars_under = 0;  // 0 = off
  std::uint64_t chars_over = 0;   // 0 = off
  bool finish_reason_length = true;
  std::vector<std::string> refusal;  // RE2 syntax, validated at load
  bool has_mean_logprob_under = false;
  double mean_logprob_under = 0;
  std::optional<double> min_logprob_under;   // lowest token logprob; nullopt = off
  std::optional<double> p10_logprob_under;   // 10th percentile (nearest rank); nullopt = off
  std::optional<double> first_margin_under;  // first token's top-1 minus top-2; nullopt = off
  bool invalid_tool_call = false;  // escalate a tool call the request's tools do not allow
  bool invalid_json = false;       // escalate structured output that breaks response_format
};

// routing.shadow (README "Shadow escalation"): a sampled share of answered requests is also sent
// to the other model after the client's response is complete, to measure how often an accepted
// draft disagreed with the large model. Off by default (both rates 0).
struct Shadow {
  double sample_rate = 0;            // share of accepted drafts (route=draft) also escalated
  double pre_draft_sample_rate = 0;  // share of before_draft escalations also drafted
  std::uint32_t max_inflight = 2;    // shadow calls at once (per process); beyond: dropped
  double budget_usd_per_hour = 0.5;  // shadow spend over a rolling hour; beyond: dropped
  bool compare_numeric = true;       // compare: [numeric, token_f1]
  bool compare_token_f1 = true;
  double judge_sample_rate = 0;  // share of shadowed text answers also judged (hg.pair/1)
  // A request is sampled when hash(seed, request id) < rate: deterministic for a given
  // x-request-id, so tests (and replays) know exactly which requests were shadowed.
  std::uint64_t seed = 0;
  bool enabled() const { return sample_rate > 0 || pre_draft_sample_rate > 0; }
};

struct Routing {
  std::string model_alias = "auto";
  std::string draft;     // a key of `models`
  std::string escalate;  // a key of `models`
  OnEscalate on_escalate = OnEscalate::replace;
  std::string refine_prompt = "Improve clarity but keep facts:\n{draft}";
  BeforeDraft before_draft;
  AfterDraft after_draft;
  std::uint32_t hold_tokens = 24;  // stream.hold_tokens
  // The hold window is bounded in bytes and time as well as tokens: a draft that streams
  // comments or content-free deltas is escalated when either bound is reached, never held on.
  std::uint64_t hold_max_bytes = 1048576;  // stream.hold_max_bytes: held (not yet sent) bytes
  std::uint32_t hold_max_ms = 10000;       // stream.hold_max_ms: from the draft's response head
  // A non-streamed draft larger than this is a failed draft (escalated or fallen back): the
  // judge reads its text, so the draft's size bounds the request's memory.
  std::uint64_t draft_max_bytes = 8388608;  // routing.draft_max_bytes
  // routing.decision_log: one hg.decision/1 line per routed request (empty = off), rotated to
  // PATH.1 past decision_log_max_bytes.
  std::string decision_log;
  std::uint64_t decision_log_max_bytes = 67108864;
  bool fallback = true;
  Shadow shadow;
};

struct Config {
  std::string source;  // file path, or "<demo>" for the embedded default
  Server server;
  Cors cors;
  Auth auth;
  std::vector<Model> models;  // in file order
  Routing routing;

  // nullptr when `name` is not a configured model.
  const Model* find_model(std::string_view name) const;
};

using Snapshot = std::shared_ptr<const Config>;

}  // namespace gw::config
