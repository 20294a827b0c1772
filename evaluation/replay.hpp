#pragma once
// `hybrid-gateway eval replay`: recorded requests (hg.outcome/1 or hg.decision/1 rows) run
// through a config's routing rules with the gateway's own functions (policies::before_draft,
// policies::judge), offline.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "evaluation/routed_row.hpp"
#include "gateway/config/config.hpp"
#include "policies/rules.hpp"
#include "policies/verdict.hpp"

namespace gw::eval {

// What a replay needs besides the rows: the compiled rules, the two models' prices, and
// whether requests stream (then only the first hold_tokens draft tokens are judged and paid
// for on an escalation).
struct ReplayPolicy {
  policies::RuleSpec spec;
  config::Price draft_price;
  config::Price escalate_price;
  bool stream = false;
  std::uint32_t hold_tokens = 24;
};

// One request, decided.
struct Decided {
  bool known = true;  // false: the row lacks what the rules need (no draft recorded)
  bool escalate = false;
  bool before_draft = false;  // escalated without drafting
  policies::Reason reason = policies::Reason::none;
  double cost_usd = 0;
  std::optional<double> quality;        // of the answer sent
  std::optional<double> quality_draft;  // both labels, for bad-accept / needless-escalation
  std::optional<double> quality_escalate;
};

class Replayer {
 public:
  // Throws std::invalid_argument when the spec's patterns do not compile.
  explicit Replayer(ReplayPolicy policy);
  Decided decide(const RoutedRow& row) const;
  const ReplayPolicy& policy() const { return policy_; }

 private:
  ReplayPolicy policy_;
  policies::Rules rules_;
  policies::Rules rules_without_refusal_;  // for rows whose draft text was not recorded
};

// Figures over a set of decided requests; `weights` (bootstrap multiplicities) may be empty.
struct Figures {
  double n = 0;         // requests decided
  double labelled = 0;  // with both quality labels
  double escalation_rate = 0;
  double before_draft_rate = 0;
  double cost_per_1k_usd = 0;
  double quality = 0;        // mean over labelled requests
  double quality_draft = 0;  // small model only, same requests
  double quality_escalate = 0;
  double quality_oracle = 0;        // the better of the two per request
  double gap_recovered = 0;         // (quality - small) / (large - small); 0 when no gap
  double bad_accepts = 0;           // draft accepted while worse than the large answer (count)
  double needless_escalations = 0;  // escalated while the draft was as good (count)
  double bad_accept_rate = 0;       // over labelled requests
  double needless_escalation_rate = 0;
  std::map<std::string, double> reasons;  // escalation reason -> count
};
Figures figures_of(const std::vector<Decided>& decided,
                   const std::vector<std::uint32_t>& weights = {});

// Reads hg.outcome/1 or hg.decision/1 rows; `problems` gets one line per row skipped.
std::vector<RoutedRow> read_routed_rows(const std::string& path,
                                        std::vector<std::string>& problems);

// The policy from a config file: routing rules, prices of routing.draft / routing.escalate and
// stream.hold_tokens. Throws std::runtime_error with the loader's FILE:LINE:COL problems.
ReplayPolicy policy_from_config_file(const std::string& path, bool stream);

int replay_command(int argc, char** argv);

}  // namespace gw::eval
