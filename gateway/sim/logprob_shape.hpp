#pragma once
// The shape of a simulated answer's token logprobs, for testing the confidence rules:
// `[sim:min_logprob=X]` gives one token (the second, or the only one) logprob X while the
// others keep the plan's logprob; `[sim:first_margin=X]` makes the first token's top-1 minus
// top-2 logprob exactly X. Pure functions, no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::sim {

struct LogprobShape {
  double logprob = -0.2;               // every token, unless below
  std::optional<double> min_logprob;   // the dip: one token's logprob
  std::optional<double> first_margin;  // the first token's margin over its runner-up
};

// The index of the token that carries the dip, for an answer of `n` tokens.
std::size_t dip_index(std::size_t n);

// Token `i`'s logprob of an `n`-token answer.
double token_logprob(const LogprobShape& shape, std::size_t i, std::size_t n);

// A logprobs.content entry for token `i`: top_logprobs lists up to `top` alternatives (the
// token itself, then a runner-up `first_margin` below it on the first token, or 1.0 below it
// elsewhere).
void append_logprob_entry(std::string& out, const LogprobShape& shape, std::string_view token,
                          std::size_t i, std::size_t n, std::uint32_t top);

}  // namespace gw::sim
