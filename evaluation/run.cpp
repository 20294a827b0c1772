#include "evaluation/run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "evaluation/arm_reply.hpp"
#include "evaluation/cli_args.hpp"
#include "evaluation/evalset.hpp"
#include "evaluation/outcome.hpp"
#include "gateway/config/load.hpp"
#include "policies/prompt.hpp"

namespace gw::eval {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

// Rules decided before any draft: an escalated answer for these never had a draft leg.
const std::set<std::string, std::less<>> kBeforeDraftReasons = {"prompt_chars_over", "match"};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

json opt_json(std::optional<double> v) {
  return v ? json(*v) : json(nullptr);
}

struct ArmSpec {
  std::string name;
  std::string model;
  HttpEndpoint endpoint;
  bool stream = false;
  bool logprobs = false;
};

std::string request_body(const RunOptions& o, const EvalItem& item, const ArmSpec& arm) {
  json body = {{"model", arm.model},
               {"messages", item.messages},
               {"temperature", 0},
               {"seed", o.seed},
               {"max_tokens", item.max_tokens}};
  if (arm.stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  if (arm.logprobs) {
    body["logprobs"] = true;
    body["top_logprobs"] = kDraftTopLogprobs;
  }
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string header(const HttpReply& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string{} : it->second;
}

net::awaitable<json> run_arm(const RunOptions& o, const EvalItem& item, const ArmSpec& arm) {
  HttpRequest req;
  req.path = "/v1/chat/completions";
  req.body = request_body(o, item, arm);
  req.api_key = o.api_key;
  req.timeout_ms = o.timeout_ms;
  const auto t0 = Clock::now();
  std::optional<double> client_ttft;
  if (arm.stream) {
    req.on_body = [&](std::string_view so_far) {
      if (!client_ttft && sse_has_first_token(so_far)) client_ttft = ms_since(t0);
    };
  }
  const HttpReply reply = co_await http_call(arm.endpoint, std::move(req));
  const double client_total = ms_since(t0);

  json out = {{"model", arm.model}, {"status", reply.status}, {"stream", arm.stream}};
  const bool is_sse = header(reply, "content-type").starts_with("text/event-stream");
  const ArmReply a = is_sse ? parse_sse(reply.body) : parse_completion(reply.body);
  if (!reply.error.empty()) {
    out["error"] = reply.error;
  } else if (reply.status != 200) {
    const json err = json::parse(reply.body, nullptr, false);
    std::string msg = "HTTP " + std::to_string(reply.status);
    if (err.is_object() && err.contains("error") && err["error"].is_object()) {
      msg += ": " + string_at(err["error"], "message");
    }
    out["error"] = msg;
  } else if (!a.parsed) {
    out["error"] = "not a chat completion";
  } else {
    out["error"] = nullptr;
  }
  const bool ok = out["error"].is_null();
  out["text"] = ok ? json(a.text) : json(nullptr);
  out["finish_reason"] = ok && !a.finish_reason.empty() ? json(a.finish_reason) : json(nullptr);
  out["kind"] = a.kind;
  out["usage"] = {
      {"prompt_tokens", a.prompt_tokens ? json(*a.prompt_tokens) : json(nullptr)},
      {"completion_tokens", a.completion_tokens ? json(*a.completion_tokens) : json(nullptr)},
      {"estimated", false}};
  const std::string route = header(reply, "x-gateway-route");
  const std::string answered_by = header(reply, "x-gateway-model");
  out["route"] = route.empty() ? json(nullptr) : json(route);
  out["answered_by"] =
      answered_by.empty() ? (a.model.empty() ? json(nullptr) : json(a.model)) : json(answered_by);
  out["reason"] = header(reply, "x-gateway-escalation-reason");
  json timings = json::object();
  for (const auto& [name, ms] : parse_server_timing(header(reply, "server-timing"))) {
    timings[name] = ms;
  }
  timings["client_ttft"] = opt_json(client_ttft);
  timings["client_total"] = client_total;
  out["timings_ms"] = std::move(timings);
  out["simulated"] = a.id.starts_with(kSimulatorIdPrefix);
  out["logprobs"] =
      arm.logprobs ? logprob_summary(a.logprobs, a.first_margin,
                                     o.config ? o.config->routing.hold_tokens : kDefaultHoldTokens)
                   : json(nullptr);
  co_return out;
}

std::optional<uint64_t> tokens_at(const json& arm, std::string_view key) {
  auto v = number_at(arm.value("usage", json::object()), key);
  if (!v) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<double> generation_seconds(const json& arm) {
  auto total = number_at(arm.value("timings_ms", json::object()), "total");
  if (!total) total = number_at(arm.value("timings_ms", json::object()), "client_total");
  if (!total) return std::nullopt;
  return *total / 1000.0;
}

// Fills cost_usd and cost_basis; an escalated auto answer is split into its draft leg (the
// draft arm's usage for the same item, temperature 0) and the rest at the escalation price.
void add_cost(const RunOptions& o, const std::string& arm_name, json& arm, const json* draft_arm) {
  const config::Config* cfg = o.config.get();
  const auto p = tokens_at(arm, "prompt_tokens");
  const auto c = tokens_at(arm, "completion_tokens");
  arm["cost_usd"] = nullptr;
  arm["cost_basis"] = nullptr;
  if (!arm["error"].is_null()) return;
  const bool routed = arm_name == kArmAuto || arm_name == kArmAutoRefine;
  const std::string route = string_at(arm, "route");
  if (!routed || route != "escalated") {
    const std::string model = routed ? string_at(arm, "answered_by") : string_at(arm, "model");
    arm["cost_usd"] = opt_json(usage_cost(cfg, model, p, c, generation_seconds(arm)));
    arm["cost_basis"] = "usage";
    return;
  }
  if (kBeforeDraftReasons.contains(string_at(arm, "reason"))) {
    arm["cost_usd"] = opt_json(usage_cost(cfg, o.escalate_model, p, c, generation_seconds(arm)));
    arm["cost_basis"] = "usage";
    return;
  }
  if (draft_arm == nullptr || !(*draft_arm)["error"].is_null()) return;
  const auto dp = tokens_at(*draft_arm, "prompt_tokens");
  const auto dc = tokens_at(*draft_arm, "completion_tokens");
  if (!p || !c || !dp || !dc) return;
  const auto draft_cost = usage_cost(cfg, o.draft_model, dp, dc, generation_seconds(*draft_arm));
  const uint64_t rest_p = *p > *dp ? *p - *dp : 0;
  const uint64_t rest_c = *c > *dc ? *c - *dc : 0;
  std::optional<double> secs = generation_seconds(arm);
  const auto rest_cost = usage_cost(cfg, o.escalate_model, rest_p, rest_c, secs);
  if (!draft_cost || !rest_cost) return;
  arm["cost_usd"] = *draft_cost + *rest_cost;
  arm["cost_basis"] = "draft_arm_plus_rest";
}

net::awaitable<json> run_item(const RunOptions& o, const EvalItem& item,
                              const std::vector<ArmSpec>& arms) {
  const policies::PromptStats stats = policies::prompt_stats(item.messages);
  json row = {{"schema", kOutcomeSchema},    {"id", item.id},        {"domain", item.domain},
              {"tags", item.tags},           {"prompt", stats.text}, {"prompt_chars", stats.chars},
              {"reference", item.reference}, {"source", "eval"},     {"arms", json::object()}};
  for (const ArmSpec& arm : arms) {
    json result = co_await run_arm(o, item, arm);
    const json* draft = find_arm(row, kArmDraft);
    add_cost(o, arm.name, result, draft);
    row["arms"][arm.name] = std::move(result);
  }
  co_return row;
}

struct Progress {
  size_t total = 0, done = 0, failed_arms = 0;
  Clock::time_point start = Clock::now();
  bool quiet = false;
  void report() const {
    if (quiet) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double eta =
        done == 0 ? 0 : elapsed / static_cast<double>(done) * static_cast<double>(total - done);
    std::fprintf(stderr, "eval run: %zu/%zu done, %zu failed arms, %.0fs elapsed, ETA %.0fs\n",
                 done, total, failed_arms, elapsed, eta);
  }
};

}  // namespace

std::optional<double> usage_cost(const config::Config* cfg, const std::string& model,
                                 std::optional<uint64_t> prompt_tokens,
                                 std::optional<uint64_t> completion_tokens,
                                 std::optional<double> seconds) {
  if (cfg == nullptr || !prompt_tokens || !completion_tokens) return std::nullopt;
  const config::Model* m = cfg->find_model(model);
  if (m == nullptr) return std::nullopt;
  double usd = static_cast<double>(*prompt_tokens) * m->price.input_per_mtok / 1e6 +
               static_cast<double>(*completion_tokens) * m->price.output_per_mtok / 1e6;
  if (m->price.per_second > 0) {
    if (!seconds) return std::nullopt;
    usd += *seconds * m->price.per_second;
  }
  return usd;
}

RunStats run_eval(const RunOptions& o) {
  const Evalset set = read_evalset(o.set_path);
  for (const auto& p : set.problems) std::fprintf(stderr, "eval run: %s\n", p.c_str());
  if (set.items.empty()) throw std::runtime_error("no usable items in " + o.set_path);

  std::vector<ArmSpec> arms;
  for (const std::string& name : o.arms) {
    ArmSpec a{name, "", o.gateway, o.stream == StreamArms::all, false};
    if (name == kArmDraft) {
      a.model = o.draft_model;
      a.logprobs = true;
    } else if (name == kArmEscalate) {
      a.model = o.escalate_model;
    } else if (name == kArmAuto || name == kArmAutoRefine) {
      a.model = o.alias;
      a.stream = o.stream != StreamArms::none;
      if (name == kArmAutoRefine) {
        if (!o.refine_gateway) throw std::runtime_error("arm auto_refine needs --refine-gateway");
        a.endpoint = *o.refine_gateway;
      }
    } else {
      throw std::runtime_error("unknown arm '" + name + "'");
    }
    if (a.model.empty()) throw std::runtime_error("arm " + name + ": no model name");
    arms.push_back(std::move(a));
  }

  // Resume: an item whose row already holds every requested arm is not sent again.
  const JsonlFile existing = read_jsonl(o.out_path);
  std::unordered_set<std::string> complete;
  for (const json& row : existing.rows) {
    bool all = true;
    for (const ArmSpec& a : arms) all = all && find_arm(row, a.name) != nullptr;
    if (all) complete.insert(string_at(row, "id"));
  }
  std::vector<const EvalItem*> todo;
  RunStats stats;
  for (const EvalItem& item : set.items) {
    if (o.limit && stats.total >= o.limit) break;
    ++stats.total;
    if (complete.contains(item.id)) {
      ++stats.skipped;
    } else {
      todo.push_back(&item);
    }
  }
  JsonlWriter writer(o.out_path);
  Progress progress;
  progress.total = todo.size();
  progress.quiet = o.quiet;
  if (!o.quiet && stats.skipped) {
    std::fprintf(stderr, "eval run: resuming, %zu of %zu items already in %s\n", stats.skipped,
                 stats.total, o.out_path.c_str());
  }

  net::io_context ioc(1);
  size_t next = 0;
  std::exception_ptr failure;
  auto worker = [&]() -> net::awaitable<void> {
    while (next < todo.size()) {
      const EvalItem& item = *todo[next++];
      json row = co_await run_item(o, item, arms);
      for (const ArmSpec& a : arms) {
        if (!row["arms"][a.name]["error"].is_null()) ++progress.failed_arms;
      }
      writer.write(row);
      ++progress.done;
      progress.report();
    }
  };
  const unsigned workers = std::max(1u, std::min(o.concurrency, kMaxConcurrency));
  for (unsigned i = 0; i < workers; ++i) {
    net::co_spawn(ioc, worker(), [&failure](const std::exception_ptr& e) {
      if (e && !failure) failure = e;
    });
  }
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  stats.done = progress.done;
  stats.failed_arms = progress.failed_arms;
  return stats;
}

int run_command(int argc, char** argv) {
  static constexpr const char* kUsage =
      "usage: hybrid-gateway eval run --set FILE --out FILE [--gateway URL] [--config FILE]\n"
      "         [--arms draft,escalate,auto[,auto_refine]] [--refine-gateway URL]\n"
      "         [--draft MODEL] [--escalate MODEL] [--alias NAME] [--concurrency N] [--seed N]\n"
      "         [--stream auto|all|none] [--timeout-ms MS] [--limit N] [--api-key-env NAME]\n"
      "         [--quiet]\n"
      "  --gateway URL   the running gateway (default http://127.0.0.1:8080)\n"
      "  --config FILE   the gateway's YAML: model names, prices (cost), hold_tokens\n"
      "  API key: $GATEWAY_API_KEY unless --api-key-env names another variable\n";
  CliArgs args(argc, argv, 3);
  RunOptions o;
  std::string gateway = "http://127.0.0.1:8080", refine, config_path, arms, stream = "auto";
  std::string key_env = "GATEWAY_API_KEY";
  try {
    while (args.more()) {
      const std::string_view flag = args.flag();
      if (flag == "--set") {
        o.set_path = args.value();
      } else if (flag == "--out") {
        o.out_path = args.value();
      } else if (flag == "--gateway") {
        gateway = args.value();
      } else if (flag == "--refine-gateway") {
        refine = args.value();
      } else if (flag == "--config") {
        config_path = args.value();
      } else if (flag == "--arms") {
        arms = args.value();
      } else if (flag == "--draft") {
        o.draft_model = args.value();
      } else if (flag == "--escalate") {
        o.escalate_model = args.value();
      } else if (flag == "--alias") {
        o.alias = args.value();
      } else if (flag == "--concurrency") {
        o.concurrency = static_cast<unsigned>(args.number(1, kMaxConcurrency));
      } else if (flag == "--seed") {
        o.seed = args.number(0, UINT32_MAX);
      } else if (flag == "--stream") {
        stream = args.value();
      } else if (flag == "--timeout-ms") {
        o.timeout_ms = static_cast<uint32_t>(args.number(1, 3600000));
      } else if (flag == "--limit") {
        o.limit = args.number(0, 1000000000);
      } else if (flag == "--api-key-env") {
        key_env = args.value();
      } else if (flag == "--quiet") {
        o.quiet = true;
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (o.set_path.empty() || o.out_path.empty()) throw UsageError("--set and --out are required");
    auto ep = parse_endpoint(gateway);
    if (!ep) throw UsageError("--gateway: expected http://HOST:PORT, got " + gateway);
    o.gateway = *ep;
    if (!refine.empty()) {
      auto rep = parse_endpoint(refine);
      if (!rep) throw UsageError("--refine-gateway: expected http://HOST:PORT, got " + refine);
      o.refine_gateway = *rep;
    }
    if (!arms.empty()) {
      o.arms = split_list(arms);
    } else if (o.refine_gateway) {
      o.arms.push_back(std::string(kArmAutoRefine));
    }
    if (stream == "auto") {
      o.stream = StreamArms::auto_only;
    } else if (stream == "all") {
      o.stream = StreamArms::all;
    } else if (stream == "none") {
      o.stream = StreamArms::none;
    } else {
      throw UsageError("--stream: expected auto, all or none");
    }
  } catch (const UsageError& e) {
    std::fprintf(stderr, "eval run: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (!config_path.empty()) {
    auto loaded = config::load_file(config_path);
    if (!loaded.config) {
      for (const auto& p : loaded.problems) std::fprintf(stderr, "%s\n", p.str().c_str());
      return 2;
    }
    o.config = loaded.config;
    if (o.draft_model.empty()) o.draft_model = o.config->routing.draft;
    if (o.escalate_model.empty()) o.escalate_model = o.config->routing.escalate;
    o.alias = o.config->routing.model_alias;
  }
  // Read before any thread starts; nothing here calls setenv.
  if (const char* key = std::getenv(key_env.c_str())) {  // NOLINT(concurrency-mt-unsafe)
    // GATEWAY_API_KEYS may hold several keys: the first is used.
    std::string k = key;
    o.api_key = k.substr(0, k.find(','));
  }
  try {
    const RunStats s = run_eval(o);
    if (!o.quiet) {
      std::fprintf(stderr, "eval run: %zu items, %zu resumed, %zu sent, %zu failed arms -> %s\n",
                   s.total, s.skipped, s.done, s.failed_arms, o.out_path.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eval run: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace gw::eval
