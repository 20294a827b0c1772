#include "policies/verdict.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <utility>
#include <vector>

namespace gw::policies {
namespace {

// These names are HTTP header values and Prometheus labels: a rename breaks dashboards.
const std::vector<std::pair<Reason, std::string_view>> kNames = {
    {Reason::none, "none"},
    {Reason::prompt_chars_over, "prompt_chars_over"},
    {Reason::match, "match"},
    {Reason::chars_under, "chars_under"},
    {Reason::chars_over, "chars_over"},
    {Reason::finish_reason_length, "finish_reason_length"},
    {Reason::refusal, "refusal"},
    {Reason::mean_logprob_under, "mean_logprob_under"},
    {Reason::min_logprob_under, "min_logprob_under"},
    {Reason::p10_logprob_under, "p10_logprob_under"},
    {Reason::first_margin_under, "first_margin_under"},
    {Reason::invalid_tool_call, "invalid_tool_call"},
    {Reason::invalid_json, "invalid_json"},
    {Reason::upstream_error, "upstream_error"},
};

TEST(Reason, ToStringGivesTheSnakeCaseName) {
  for (const auto& [reason, name] : kNames) EXPECT_EQ(to_string(reason), name);
}

TEST(Reason, ParseIsTheInverse) {
  for (const auto& [reason, name] : kNames) EXPECT_EQ(parse_reason(name), reason);
  EXPECT_EQ(parse_reason("Refusal"), std::nullopt);
  EXPECT_EQ(parse_reason(""), std::nullopt);
}

TEST(Verdict, KeepHasNoReason) {
  EXPECT_EQ(Verdict::keep(), (Verdict{false, Reason::none}));
  EXPECT_EQ(Verdict::escalate_for(Reason::match), (Verdict{true, Reason::match}));
}

}  // namespace
}  // namespace gw::policies
