#include "gateway/http/cors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gw::http {
namespace {

struct CorsCase {
  const char* name;
  std::vector<std::string> allow;
  std::string origin;    // the request's Origin header, empty when absent
  std::string expected;  // Access-Control-Allow-Origin, empty for none
};

class CorsAllowOrigin : public testing::TestWithParam<CorsCase> {};

TEST_P(CorsAllowOrigin, Decides) {
  const auto& c = GetParam();
  EXPECT_EQ(CorsPolicy(c.allow).allow_origin(c.origin), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, CorsAllowOrigin,
    testing::Values(
        CorsCase{"WildcardAnyOrigin", {"*"}, "https://app.example", "*"},
        CorsCase{"WildcardNoOrigin", {"*"}, "", "*"},
        CorsCase{"WildcardNullOrigin", {"*"}, "null", "*"},
        CorsCase{
            "ExactMatchEchoed", {"https://a.example"}, "https://a.example", "https://a.example"},
        CorsCase{"ExactSecondOfMany",
                 {"https://a.example", "http://localhost:3000"},
                 "http://localhost:3000",
                 "http://localhost:3000"},
        CorsCase{"ExactUnlisted", {"https://a.example"}, "https://b.example", ""},
        CorsCase{"ExactNoOrigin", {"https://a.example"}, "", ""},
        CorsCase{"ExactIsNotPrefix", {"https://a.example"}, "https://a.example.evil", ""},
        CorsCase{"ExactSchemeMatters", {"https://a.example"}, "http://a.example", ""},
        CorsCase{"ExactPortMatters", {"http://localhost:3000"}, "http://localhost:3001", ""},
        CorsCase{"NullListedEchoed", {"null"}, "null", "null"},
        CorsCase{"NullNotListed", {"https://a.example"}, "null", ""},
        CorsCase{
            "MixExactWins", {"*", "https://a.example"}, "https://a.example", "https://a.example"},
        CorsCase{"MixUnlistedGetsWildcard", {"https://a.example", "*"}, "https://b.example", "*"},
        CorsCase{"MixNullEchoed", {"*", "null"}, "null", "null"},
        CorsCase{"MixNoOrigin", {"*", "https://a.example"}, "", "*"},
        CorsCase{"EmptyPolicy", {}, "https://a.example", ""},
        CorsCase{"EmptyPolicyNoOrigin", {}, "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CorsPolicy, VariesByOrigin) {
  EXPECT_FALSE(CorsPolicy({"*"}).varies_by_origin());
  EXPECT_FALSE(CorsPolicy({"*", "*"}).varies_by_origin());
  EXPECT_TRUE(CorsPolicy({"https://a.example"}).varies_by_origin());
  EXPECT_TRUE(CorsPolicy({"null"}).varies_by_origin());
  EXPECT_TRUE(CorsPolicy({"*", "https://a.example"}).varies_by_origin());
  EXPECT_TRUE(CorsPolicy({}).varies_by_origin());
}

TEST(CorsPolicy, ExposesGatewayHeaders) {
  for (std::string_view h : {"x-gateway-route", "x-gateway-model", "x-gateway-escalation-reason",
                             "Server-Timing", "x-request-id"}) {
    EXPECT_NE(kCorsExposeHeaders.find(h), std::string_view::npos) << h;
  }
}

}  // namespace
}  // namespace gw::http
