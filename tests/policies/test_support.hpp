#pragma once
// Test helpers: compile a RuleSpec the test knows is valid; print verdicts.

#include <gtest/gtest.h>

#include <limits>
#include <ostream>
#include <stdexcept>
#include <utility>
#include <variant>

#include "policies/rules.hpp"
#include "policies/verdict.hpp"

namespace gw::policies {

// gtest prints a failing Verdict with this (found by ADL).
inline void PrintTo(const Verdict& v, std::ostream* os) {
  *os << (v.escalate ? "escalate(" : "keep(") << to_string(v.reason) << ")";
}

}  // namespace gw::policies

namespace gw::policies::testing {

inline Rules compiled(RuleSpec spec) {
  auto result = Rules::compile(std::move(spec));
  if (auto* errors = std::get_if<std::vector<RuleError>>(&result)) {
    ADD_FAILURE() << "unexpected rule error: " << errors->front().describe();
    throw std::runtime_error("rules did not compile");
  }
  return std::get<Rules>(std::move(result));
}

inline Rules after_draft_rules(AfterDraftSpec after) {
  RuleSpec spec;
  spec.after_draft = std::move(after);
  return compiled(std::move(spec));
}

inline Rules before_draft_rules(BeforeDraftSpec before) {
  RuleSpec spec;
  spec.before_draft = std::move(before);
  return compiled(std::move(spec));
}

// The patterns of SPEC's routing example.
inline const std::string kSpecMatch = "(?i)\\b(contract|incident|diagnos)";
inline const std::string kSpecRefusalDontKnow = "(?i)\\bI (don't|do not) know\\b";
inline const std::string kSpecRefusalInsufficient = "(?i)insufficient (context|information)";

// Verdict shorthands for the rule tables.
inline Verdict esc(Reason r) {
  return Verdict::escalate_for(r);
}
inline const Verdict kAccept = Verdict::keep();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace gw::policies::testing
