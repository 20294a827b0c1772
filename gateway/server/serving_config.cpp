#include "gateway/server/serving_config.hpp"

#include <stdexcept>

#include "gateway/metrics/metrics.hpp"

namespace gw {

namespace {
policies::Rules compile_rules(const config::Routing& r) {
  policies::RuleSpec spec;
  spec.before_draft.prompt_chars_over = r.before_draft.prompt_chars_over;
  spec.before_draft.match = r.before_draft.match;
  spec.after_draft.chars_under = r.after_draft.chars_under;
  spec.after_draft.chars_over = r.after_draft.chars_over;
  spec.after_draft.finish_reason_length = r.after_draft.finish_reason_length;
  spec.after_draft.refusal = r.after_draft.refusal;
  spec.after_draft.invalid_tool_call = r.after_draft.invalid_tool_call;
  spec.after_draft.invalid_json = r.after_draft.invalid_json;
  if (r.after_draft.has_mean_logprob_under) {
    spec.after_draft.mean_logprob_under = r.after_draft.mean_logprob_under;
  }
  spec.after_draft.min_logprob_under = r.after_draft.min_logprob_under;
  spec.after_draft.p10_logprob_under = r.after_draft.p10_logprob_under;
  spec.after_draft.first_margin_under = r.after_draft.first_margin_under;
  auto compiled = policies::Rules::compile(std::move(spec));
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
