// hybrid-gateway: --config FILE | --check-config FILE | --demo
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "evaluation/eval_main.hpp"
#include "gateway/config/load.hpp"
#include "gateway/demo_config.hpp"
#include "gateway/server/gateway.hpp"
#include "gateway/sim/simulator.hpp"

#ifdef GW_TCMALLOC
#include "gateway/memory_release.hpp"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a listener could not be opened, a simulator not started
constexpr int kExitUsageOrConfig = 2;

constexpr const char* kUsage =
    "usage: hybrid-gateway --config FILE [--log-prompts] [--no-metrics]\n"
    "       hybrid-gateway --check-config FILE\n"
    "       hybrid-gateway --demo\n"
    "       hybrid-gateway eval run|grade|report ...   (see docs/evaluation.md)\n"
    "\n"
    "  --config FILE        run the gateway with FILE (SIGHUP reloads it, SIGTERM drains)\n"
    "  --check-config FILE  validate FILE: exit 0 when valid, else print FILE:LINE:COL: message\n"
    "                       for each problem and exit 2\n"
    "  --demo               run with the embedded demo config and two simulated upstreams\n"
    "                       (phi-4-mini, gpt-oss-20b) in-process; gateway on 127.0.0.1:8080,\n"
    "                       admin on 127.0.0.1:9090\n"
    "  --log-prompts        debug: include prompt text in the request log\n"
    "  --no-metrics         benchmarking: record no per-request metrics\n";

int print_problems(const gw::config::LoadResult& r) {
  for (const auto& p : r.problems) std::fprintf(stderr, "%s\n", p.str().c_str());
  return kExitUsageOrConfig;
}

// The demo's simulated upstreams: a fast small model and a slower large one.
gw::sim::ModelProfile demo_profile(const gw::config::Model& m, bool large) {
  gw::sim::ModelProfile p;
  p.name = m.upstream_model;
  p.ttft_ms = large ? 350 : 60;
  p.tokens_per_s = large ? 35 : 120;
  p.answer_tokens = large ? 90 : 60;
  p.accuracy = large ? 0.92 : 0.72;  // on eval/questions.jsonl (gateway/sim/eval_answers.hpp)
  return p;
}

int run_demo(bool log_prompts) {
  auto loaded = gw::config::load_string(gw::kDemoConfigYaml, "<demo>");
  if (!loaded.config) return print_problems(loaded);
  std::vector<std::unique_ptr<gw::sim::Simulator>> sims;
  try {
    for (const auto& m : loaded.config->models) {
      gw::sim::Options o;
      o.host = m.url.host;
      o.port = m.url.port;
      o.models.push_back(demo_profile(m, m.name == loaded.config->routing.escalate));
      sims.push_back(std::make_unique<gw::sim::Simulator>(o));
      sims.back()->start();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hybrid-gateway: cannot start the demo's simulated upstreams: %s\n",
                 e.what());
    return kExitFailure;
  }
  gw::GatewayOptions opts;
  opts.config = loaded.config;
  opts.log_prompts = log_prompts;
  opts.on_stopped = [&sims] {
    for (auto& s : sims) s->stop();
  };
  return gw::run_gateway(std::move(opts));
}

}  // namespace

int main(int argc, char** argv) {
  // `hybrid-gateway eval run|grade|report ...`: the evaluation commands (evaluation/).
  if (argc > 1 && std::string_view(argv[1]) == "eval") return gw::eval::eval_main(argc, argv);
  std::string config_path, check_path;
  bool demo = false, log_prompts = false, record_metrics = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (a == "--config") {
      if (!value(config_path)) break;
    } else if (a == "--check-config") {
      if (!value(check_path)) break;
    } else if (a == "--demo") {
      demo = true;
    } else if (a == "--log-prompts") {
      log_prompts = true;
    } else if (a == "--no-metrics") {
      record_metrics = false;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else {
      std::fprintf(stderr, "hybrid-gateway: unknown argument '%s'\n%s", argv[i], kUsage);
      return kExitUsageOrConfig;
    }
  }
  int modes = !config_path.empty() + !check_path.empty() + demo;
  if (modes != 1) {
    std::fputs(kUsage, stderr);
    return kExitUsageOrConfig;
  }
  if (!check_path.empty()) {
    auto r = gw::config::load_file(check_path);
    if (!r.config) return print_problems(r);
    std::printf("%s: OK (%zu models, alias '%s')\n", check_path.c_str(), r.config->models.size(),
                r.config->routing.model_alias.c_str());
    return kExitOk;
  }
  // From here on the process serves (the demo or a config) until it is stopped.
#ifdef GW_TCMALLOC
  gw::MemoryReleaser releaser;
#endif
  if (demo) return run_demo(log_prompts);

  auto r = gw::config::load_file(config_path);
  if (!r.config) return print_problems(r);
  gw::GatewayOptions opts;
  opts.config = r.config;
  opts.reload_path = config_path;
  opts.log_prompts = log_prompts;
  opts.record_metrics = record_metrics;
  return gw::run_gateway(std::move(opts));
}
