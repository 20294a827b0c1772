#pragma once
// Cost arithmetic: tokens x configured prices, plus a local model's price per second of
// generation. Pure code, unit-tested on its own.

#include <cstdint>

#include "gateway/config/config.hpp"

namespace gw {

inline constexpr double kTokensPerMillion = 1e6;

// USD for one upstream call.
double call_cost_usd(const config::Price& price, std::uint64_t prompt_tokens,
                     std::uint64_t completion_tokens, double generation_seconds);

}  // namespace gw
