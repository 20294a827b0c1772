#include "evaluation/grade.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <unordered_map>

#include "evaluation/arm_reply.hpp"
#include "evaluation/checks.hpp"
#include "evaluation/cli_args.hpp"
#include "evaluation/http_client.hpp"
#include "evaluation/judge.hpp"
#include "evaluation/outcome.hpp"
#include "gateway/config/load.hpp"
#include "policies/pairwise_judge.hpp"

namespace gw::eval {
namespace {

namespace net = boost::asio;

constexpr unsigned kDefaultJudgeConcurrency = 4;
constexpr unsigned kMaxJudgeConcurrency = 64;
constexpr uint64_t kJudgeSeed = 7;

struct GradeOptions {
  std::string in_path, out_path, cache_path, judge_model, api_key;
  HttpEndpoint gateway{"127.0.0.1", 8080, ""};
  std::vector<std::string> pairwise;  // two arm names, or empty
  unsigned concurrency = kDefaultJudgeConcurrency;
  uint32_t timeout_ms = kDefaultRequestTimeoutMs;
  std::vector<std::string> refusal_patterns = default_refusal_patterns();
};

// One judge call: its cache key and messages; the raw output lands in `output`.
struct JudgeTask {
  std::string key, version, question_hash, answer_hash;
  json messages;
  std::optional<std::string> output;  // nullopt = the call failed (not cached)
  std::string error;
};

net::awaitable<void> call_judge(const GradeOptions& o, JudgeTask& task) {
  HttpRequest req;
  req.path = "/v1/chat/completions";
  req.api_key = o.api_key;
  req.timeout_ms = o.timeout_ms;
  req.body = json{{"model", o.judge_model},
                  {"messages", task.messages},
                  {"temperature", 0},
                  {"seed", kJudgeSeed},
                  {"max_tokens", policies::kJudgeMaxTokens}}
                 .dump(-1, ' ', false, json::error_handler_t::replace);
  const HttpReply reply = co_await http_call(o.gateway, std::move(req));
  if (!reply.error.empty() || reply.status != 200) {
    task.error = reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error;
    co_return;
  }
  const ArmReply a = parse_completion(reply.body);
  if (!a.parsed) {
    task.error = "not a chat completion";
    co_return;
  }
  task.output = a.text;
}

void run_tasks(const GradeOptions& o, std::vector<JudgeTask*>& tasks) {
  net::io_context ioc(1);
  size_t next = 0, done = 0;
  auto worker = [&]() -> net::awaitable<void> {
    while (next < tasks.size()) {
      JudgeTask& t = *tasks[next++];
      co_await call_judge(o, t);
      ++done;
      std::fprintf(stderr, "eval grade: judge %zu/%zu\n", done, tasks.size());
    }
  };
  const unsigned n = std::max(1u, std::min(o.concurrency, kMaxJudgeConcurrency));
  for (unsigned i = 0; i < n; ++i)
    net::co_spawn(ioc, worker(), [](const std::exception_ptr& e) {
      if (e) std::rethrow_exception(e);
    });
  ioc.run();
}

std::string arm_text(const json& arm) {
  return arm.contains("text") && arm["text"].is_string() ? arm["text"].get<std::string>() : "";
}

bool has_text(const json* arm) {
  return arm != nullptr && arm->contains("text") && (*arm)["text"].is_string();
}

int grade(const GradeOptions& o) {
  JsonlFile file = read_jsonl(o.in_path);
  for (const auto& p : file.problems) std::fprintf(stderr, "eval grade: %s\n", p.c_str());
  // The last row per id wins (a re-run item supersedes its earlier row).
  std::vector<json> rows;
  std::unordered_map<std::string, size_t> index;
  for (json& row : file.rows) {
    const std::string id = string_at(row, "id");
    if (auto it = index.find(id); it != index.end()) {
      rows[it->second] = std::move(row);
    } else {
      index.emplace(id, rows.size());
      rows.push_back(std::move(row));
    }
  }
  const RefusalMatcher refusal(o.refusal_patterns);
  size_t arms_graded = 0;
  for (json& row : rows) {
    if (!row.contains("arms") || !row["arms"].is_object()) continue;
    const json reference = row.value("reference", json::object());
    for (auto& [name, arm] : row["arms"].items()) {
      if (!arm.is_object()) continue;
      arm["quality"] = auto_quality(reference, arm, refusal);
      ++arms_graded;
    }
  }

  size_t calls = 0, hits = 0, unparsed = 0;
  if (!o.judge_model.empty()) {
    // Cache: one JSON line per judgement; the last line per key wins.
    std::map<std::string, std::string> cache;
    for (const json& line : read_jsonl(o.cache_path).rows) {
      if (line.contains("output") && line["output"].is_string()) {
        cache[string_at(line, "key")] = line["output"].get<std::string>();
      }
    }
    std::vector<std::unique_ptr<JudgeTask>> owned;
    std::map<std::string, JudgeTask*> by_key;
    auto need = [&](const std::string& version, const std::string& question,
                    const std::string& answer_for_key, json messages) {
      std::string key = judge_cache_key(o.judge_model, version, question, answer_for_key);
      if (cache.contains(key) || by_key.contains(key)) return key;
      auto t = std::make_unique<JudgeTask>();
      t->key = key;
      t->version = version;
      t->question_hash = text_hash(question);
      t->answer_hash = text_hash(answer_for_key);
      t->messages = std::move(messages);
      by_key[key] = t.get();
      owned.push_back(std::move(t));
      return key;
    };
    // Plan every call first, then run them with bounded concurrency.
    struct Use {
      json* quality;
      std::string key;
    };
    std::vector<Use> rubric_uses;
    struct PairUse {
      json* row;
      std::string key_ab, key_ba;
    };
    std::vector<PairUse> pair_uses;
    for (json& row : rows) {
      const std::string question = string_at(row, "prompt");
      const std::string ref = reference_text(row.value("reference", json::object()));
      if (!row.contains("arms") || !row["arms"].is_object()) continue;
      for (auto& [name, arm] : row["arms"].items()) {
        if (!has_text(&arm)) continue;
        const std::string answer = arm_text(arm);
        rubric_uses.push_back(
            {&arm["quality"], need(std::string(kJudgePromptVersion), question, answer,
                                   judge_messages(question, ref, answer))});
      }
      if (o.pairwise.size() == 2) {
        const json* a = find_arm(row, o.pairwise[0]);
        const json* b = find_arm(row, o.pairwise[1]);
        if (has_text(a) && has_text(b)) {
          const std::string ta = arm_text(*a), tb = arm_text(*b);
          const std::string v(policies::kPairPromptVersion);
          pair_uses.push_back({&row,
                               need(v, question, text_hash(ta) + "/" + text_hash(tb),
                                    policies::pair_messages(question, ta, tb)),
                               need(v, question, text_hash(tb) + "/" + text_hash(ta),
                                    policies::pair_messages(question, tb, ta))});
        }
      }
    }
    std::vector<JudgeTask*> todo;
    todo.reserve(owned.size());
    for (auto& t : owned) todo.push_back(t.get());
    calls = todo.size();
    hits = rubric_uses.size() + 2 * pair_uses.size() - calls;
    run_tasks(o, todo);
    {
      JsonlWriter cache_out(o.cache_path);
      for (JudgeTask* t : todo) {
        if (!t->output) continue;
        cache[t->key] = *t->output;
        cache_out.write({{"key", t->key},
                         {"judge", o.judge_model},
                         {"prompt_version", t->version},
                         {"question_hash", t->question_hash},
                         {"answer_hash", t->answer_hash},
                         {"output", *t->output}});
      }
    }
    auto output_of = [&](const std::string& key) -> std::optional<std::string> {
      if (auto it = cache.find(key); it != cache.end()) return it->second;
      return std::nullopt;
    };
    auto error_of = [&](const std::string& key) {
      auto it = by_key.find(key);
      return it == by_key.end() ? std::string("no output") : it->second->error;
    };
    for (Use& u : rubric_uses) {
      json& q = *u.quality;
      q["judge"] = {{"model", o.judge_model}, {"prompt_version", kJudgePromptVersion}};
      const auto out = output_of(u.key);
      if (!out) {
        q["rubric"] = nullptr;
        q["judge"]["error"] = error_of(u.key);
        continue;
      }
      const auto rubric = parse_rubric(*out);
      if (!rubric) {
        q["rubric"] = "unparsed";
        ++unparsed;
        continue;
      }
      q["rubric"] = *rubric;
      if (q["score"].is_null()) {  // no automatic check applies: the judge's score stands
        q["score"] = (*rubric)["score"];
        q["source"] = "judge";
      }
    }
    for (PairUse& u : pair_uses) {
      const auto ab = output_of(u.key_ab);
      const auto ba = output_of(u.key_ba);
      const auto w1 = ab ? policies::parse_pair(*ab) : std::nullopt;
      const auto w2 = ba ? policies::parse_pair(*ba) : std::nullopt;
      json p = {{"a", o.pairwise[0]},
                {"b", o.pairwise[1]},
                {"judge", o.judge_model},
                {"prompt_version", policies::kPairPromptVersion}};
      if (!w1 || !w2) {
        p["winner"] = "unparsed";
      } else {
        // Order 1: A = first arm. Order 2: A = second arm. Agreement needed, else a tie.
        const std::string first = *w1 == "A" ? o.pairwise[0] : *w1 == "B" ? o.pairwise[1] : "tie";
        const std::string second = *w2 == "A" ? o.pairwise[1] : *w2 == "B" ? o.pairwise[0] : "tie";
        p["winner"] = first == second ? first : "tie";
        p["orders"] = {*w1, *w2};
      }
      (*u.row)["pairwise"] = std::move(p);
    }
  }
  write_jsonl_atomically(o.out_path, rows);
  std::fprintf(stderr,
               "eval grade: %zu rows, %zu arms graded; judge: %zu calls, %zu cache hits, %zu "
               "unparsed -> %s\n",
               rows.size(), arms_graded, calls, hits, unparsed, o.out_path.c_str());
  return 0;
}

}  // namespace

int grade_command(int argc, char** argv) {
  static constexpr const char* kUsage =
      "usage: hybrid-gateway eval grade --in FILE [--out FILE] [--config FILE]\n"
      "         [--judge MODEL [--gateway URL] [--judge-cache FILE] [--pairwise ARM,ARM]\n"
      "          [--concurrency N] [--timeout-ms MS] [--api-key-env NAME]]\n"
      "  --out FILE          default: rewrite --in in place\n"
      "  --config FILE       the gateway's YAML: its after_draft.refusal patterns detect refusals\n"
      "  --judge MODEL       score coherence/factuality/conciseness with MODEL via the gateway\n"
      "  --judge-cache FILE  default: IN.judge-cache.jsonl\n";
  GradeOptions o;
  std::string config_path, gateway, pairwise, key_env = "GATEWAY_API_KEY";
  try {
    CliArgs args(argc, argv, 3);
    while (args.more()) {
      const std::string_view flag = args.flag();
      if (flag == "--in") {
        o.in_path = args.value();
      } else if (flag == "--out") {
        o.out_path = args.value();
      } else if (flag == "--config") {
        config_path = args.value();
      } else if (flag == "--judge") {
        o.judge_model = args.value();
      } else if (flag == "--gateway") {
        gateway = args.value();
      } else if (flag == "--judge-cache") {
        o.cache_path = args.value();
      } else if (flag == "--pairwise") {
        o.pairwise = split_list(args.value());
        if (o.pairwise.size() != 2) throw UsageError("--pairwise: expected ARM,ARM");
      } else if (flag == "--concurrency") {
        o.concurrency = static_cast<unsigned>(args.number(1, kMaxJudgeConcurrency));
      } else if (flag == "--timeout-ms") {
        o.timeout_ms = static_cast<uint32_t>(args.number(1, 3600000));
      } else if (flag == "--api-key-env") {
        key_env = args.value();
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (o.in_path.empty()) throw UsageError("--in is required");
    if (!gateway.empty()) {
      auto ep = parse_endpoint(gateway);
      if (!ep) throw UsageError("--gateway: expected http://HOST:PORT, got " + gateway);
      o.gateway = *ep;
    }
  } catch (const UsageError& e) {
    std::fprintf(stderr, "eval grade: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (o.out_path.empty()) o.out_path = o.in_path;
  if (o.cache_path.empty()) o.cache_path = o.in_path + ".judge-cache.jsonl";
  if (!config_path.empty()) {
    auto loaded = config::load_file(config_path);
    if (!loaded.config) {
      for (const auto& p : loaded.problems) std::fprintf(stderr, "%s\n", p.str().c_str());
      return 2;
    }
    if (!loaded.config->routing.after_draft.refusal.empty()) {
      o.refusal_patterns = loaded.config->routing.after_draft.refusal;
    }
  }
  // Read before any thread starts; nothing here calls setenv.
  if (const char* key = std::getenv(key_env.c_str())) {  // NOLINT(concurrency-mt-unsafe)
    std::string k = key;
    o.api_key = k.substr(0, k.find(','));
  }
  try {
    return grade(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eval grade: %s\n", e.what());
    return 1;
  }
}

}  // namespace gw::eval
