#include "gateway/metrics/cost.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace gw {
namespace {

config::Price price(double input, double output, double per_second = 0) {
  config::Price p;
  p.input_per_mtok = input;
  p.output_per_mtok = output;
  p.per_second = per_second;
  return p;
}

struct CostCase {
  std::string name;
  config::Price price;
  std::uint64_t prompt_tokens;
  std::uint64_t completion_tokens;
  double generation_seconds;
  double expected_usd;  // worked out by hand
};

class CallCost : public testing::TestWithParam<CostCase> {};

TEST_P(CallCost, TokensTimesPricesPlusSeconds) {
  const CostCase& c = GetParam();
  double got = call_cost_usd(c.price, c.prompt_tokens, c.completion_tokens, c.generation_seconds);
  EXPECT_NEAR(got, c.expected_usd, std::abs(c.expected_usd) * 1e-12 + 1e-18);
}

constexpr std::uint64_t kMaxTokens = std::numeric_limits<std::uint64_t>::max();

INSTANTIATE_TEST_SUITE_P(
    Prices, CallCost,
    testing::Values(
        CostCase{"OneMillionPromptTokensCostTheInputPrice", price(0.5, 2.0), 1'000'000, 0, 0, 0.5},
        CostCase{"OneMillionCompletionTokensCostTheOutputPrice", price(0.5, 2.0), 0, 1'000'000, 0,
                 2.0},
        CostCase{"PromptAndCompletion", price(0.10, 0.40), 1000, 500, 0, 0.0001 + 0.0002},
        CostCase{"SingleToken", price(3.0, 15.0), 1, 1, 0, 0.000003 + 0.000015},
        CostCase{"NoTokensNoSecondsIsFree", price(0.5, 2.0), 0, 0, 0, 0.0},
        CostCase{"PerSecondTimesGenerationSeconds", price(0, 0, 0.002), 0, 0, 2.5, 0.005},
        CostCase{"TokensAndSecondsAdd", price(0.10, 0.40, 0.002), 1000, 500, 0.4,
                 0.0001 + 0.0002 + 0.0008},
        CostCase{"ZeroPricesAreFreeWhateverTheUse", price(0, 0, 0), 123'456'789, 987'654'321,
                 3600.0, 0.0},
        CostCase{"ZeroInputPriceChargesOnlyOutput", price(0, 1.0), 5'000'000, 1'000'000, 0, 1.0},
        CostCase{"ZeroOutputPriceChargesOnlyInput", price(1.0, 0), 1'000'000, 5'000'000, 0, 1.0},
        CostCase{"ZeroPerSecondIgnoresSeconds", price(0.5, 2.0, 0), 1'000'000, 0, 10.0, 0.5},
        CostCase{"BigTokenCounts", price(3.0, 15.0), 1'000'000'000'000ULL, 2'000'000'000'000ULL, 0,
                 3.0e6 + 30.0e6},
        CostCase{"MaxTokenCountsStayFinite", price(1.0, 1.0), kMaxTokens, kMaxTokens, 0,
                 2 * 18446744073709.551615},
        CostCase{"NegativeSecondsIgnored", price(0.10, 0.40, 1.0), 1000, 500, -5.0,
                 0.0001 + 0.0002},
        CostCase{"NegativeSecondsAloneCostNothing", price(0, 0, 1.0), 0, 0, -0.001, 0.0},
        CostCase{"ZeroSecondsCostNothing", price(0, 0, 1.0), 0, 0, 0.0, 0.0}),
    [](const testing::TestParamInfo<CostCase>& info) { return info.param.name; });

TEST(CallCostProperties, NeverNegativeForNonNegativePrices) {
  for (double seconds : {-1e9, -1.0, -1e-9, 0.0, 1e-9, 1.0}) {
    EXPECT_GE(call_cost_usd(price(0.1, 0.4, 0.01), 10, 10, seconds), 0.0) << seconds;
  }
}

TEST(CallCostProperties, LinearInTokens) {
  const auto p = price(0.7, 2.1);
  EXPECT_NEAR(call_cost_usd(p, 2000, 3000, 0), 2 * call_cost_usd(p, 1000, 1500, 0), 1e-15);
}

}  // namespace
}  // namespace gw
