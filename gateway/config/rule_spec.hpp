#pragma once
// The routing.before_draft / after_draft sections as a policies::RuleSpec. The one translation
// from config to rules: the gateway's ServingConfig compiles it, and `eval replay` replays with
// it, so the two cannot drift apart.

#include "gateway/config/config.hpp"
#include "policies/rules.hpp"

namespace gw::config {

policies::RuleSpec rule_spec_of(const Routing& routing);

}  // namespace gw::config
