#include "gateway/http/rate_limit_hints.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::http {
namespace {

TEST(RateLimitHints, RelaysRetryAfterAndRateLimitHeadersOnly) {
  HeaderLines h;
  keep_rate_limit_hint(h, "Retry-After", "7");
  keep_rate_limit_hint(h, "retry-after-ms", " 7000 ");
  keep_rate_limit_hint(h, "X-RateLimit-Remaining-Requests", "0");
  keep_rate_limit_hint(h, "x-ratelimit-", "bare prefix is no hint");
  keep_rate_limit_hint(h, "Content-Type", "application/json");
  keep_rate_limit_hint(h, "x-request-id", "abc");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"retry-after", "7"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"retry-after-ms", "7000"}));
  EXPECT_EQ(h[2].first, "x-ratelimit-remaining-requests");
}

TEST(RateLimitHints, RefusesControlCharactersAndOversizedValues) {
  HeaderLines h;
  keep_rate_limit_hint(h, "retry-after", "1\r\nSet-Cookie: x=1");
  keep_rate_limit_hint(h, "retry-after", std::string("1\0", 2));
  keep_rate_limit_hint(h, "x-ratelimit-big", std::string(kMaxRelayedHintValueBytes + 1, 'x'));
  keep_rate_limit_hint(h, "x-ratelimit-" + std::string(kMaxRelayedHintNameBytes, 'n'), "1");
  keep_rate_limit_hint(h, "x-ratelimit-empty", "   ");
  EXPECT_TRUE(h.empty());
  keep_rate_limit_hint(h, "x-ratelimit-ok", std::string(kMaxRelayedHintValueBytes, 'x'));
  EXPECT_EQ(h.size(), 1u);
}

TEST(RateLimitHints, BoundedInCountFirstOfRepeatsWins) {
  HeaderLines h;
  keep_rate_limit_hint(h, "retry-after", "1");
  keep_rate_limit_hint(h, "Retry-After", "2");
  for (int i = 0; i < 100; ++i) keep_rate_limit_hint(h, "x-ratelimit-n" + std::to_string(i), "1");
  EXPECT_EQ(h.size(), kMaxRelayedHintHeaders);
  EXPECT_EQ(h[0].second, "1");
  EXPECT_TRUE(has_header(h, "retry-after"));
  EXPECT_FALSE(has_header(h, "retry-after-ms"));
}

}  // namespace
}  // namespace gw::http
