#include "evaluation/eval_main.hpp"

#include <cstdio>
#include <string>
#include <string_view>

#include "evaluation/calibrate.hpp"
#include "evaluation/grade.hpp"
#include "evaluation/replay.hpp"
#include "evaluation/report.hpp"
#include "evaluation/routellm_import.hpp"
#include "evaluation/run.hpp"
#include "evaluation/synth.hpp"

namespace gw::eval {
namespace {

struct Command {
  std::string_view name;
  int (*main)(int argc, char** argv);  // argv[2] onwards are its flags
  std::string_view summary;
};

// One line per command. (cb: replay, calibrate, import, synth go here.)
constexpr Command kCommands[] = {
    {"run", run_command, "send a question set (hg.evalset/1) to each arm -> hg.outcome/1"},
    {"grade", grade_command, "automatic checks, then the optional rubric judge"},
    {"report", report_command, "Markdown + self-contained HTML + summary.json"},
    {"replay", replay_command, "outcome or decision-log rows through a config's routing rules"},
    {"calibrate", calibrate_command, "threshold grid -> Pareto frontier, target, YAML + report"},
    {"import", import_command, "import routellm: RouteLLM's GSM8K / MT-Bench outcomes -> rows"},
    {"synth", synth_command, "seeded outcome sets with a known answer (tests of calibrate)"},
};

void usage(std::FILE* out) {
  std::fputs("usage: hybrid-gateway eval COMMAND [flags]   (COMMAND --help for its flags)\n", out);
  for (const Command& c : kCommands) {
    std::fprintf(out, "  %-10s %s\n", std::string(c.name).c_str(), std::string(c.summary).c_str());
  }
}

}  // namespace

int eval_main(int argc, char** argv) {
  if (argc < 3) {
    usage(stderr);
    return 2;
  }
  const std::string_view name = argv[2];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == name) return c.main(argc, argv);
  }
  std::fprintf(stderr, "hybrid-gateway eval: unknown command '%s'\n", argv[2]);
  usage(stderr);
  return 2;
}

}  // namespace gw::eval
