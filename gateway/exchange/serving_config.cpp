#include "gateway/exchange/serving_config.hpp"

#include <stdexcept>

#include "gateway/config/rule_spec.hpp"
#include "gateway/metrics/metrics.hpp"

namespace gw {

namespace {
policies::Rules compile_rules(const config::Routing& r) {
  auto compiled = policies::Rules::compile(config::rule_spec_of(r));
  if (auto* errors = std::get_if<std::vector<policies::RuleError>>(&compiled)) {
    // The loader validated every pattern already; reaching this is a bug, not bad input.
    throw std::invalid_argument("routing rules do not compile: " + errors->front().describe());
  }
  return std::get<policies::Rules>(std::move(compiled));
}
}  // namespace

ServingConfig::ServingConfig(config::Snapshot c, Metrics* m)
    : cfg(std::move(c)),
      cors(cfg->cors.allow_origins),
      rules(compile_rules(cfg->routing)),
      draft(cfg->find_model(cfg->routing.draft)),
      escalate(cfg->find_model(cfg->routing.escalate)),
      secrets(http::secrets_of(*cfg)) {
  if (!draft || !escalate) throw std::invalid_argument("routing names an unknown model");
  if (m) metrics = std::make_unique<MetricsTable>(*m, *cfg);
}

ServingConfig::~ServingConfig() = default;

}  // namespace gw
