#include "gateway/metrics/cost.hpp"

namespace gw {

double call_cost_usd(const config::Price& price, std::uint64_t prompt_tokens,
                     std::uint64_t completion_tokens, double generation_seconds) {
  return static_cast<double>(prompt_tokens) * price.input_per_mtok / kTokensPerMillion +
         static_cast<double>(completion_tokens) * price.output_per_mtok / kTokensPerMillion +
         (generation_seconds > 0 ? generation_seconds * price.per_second : 0.0);
}

}  // namespace gw
