#pragma once
// CORS decisions as pure code: which Access-Control-* headers a response carries.

#include <string>
#include <string_view>
#include <vector>

namespace gw::http {

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allow_origins);

  // The value for Access-Control-Allow-Origin given the request's Origin header,
  // or empty when the origin is not allowed (or the request has no Origin).
  std::string allow_origin(std::string_view request_origin) const;

  // Whether responses vary by Origin (true unless the policy is exactly "*").
  bool varies_by_origin() const { return !wildcard_ || !exact_.empty(); }

 private:
  bool wildcard_ = false;
  std::vector<std::string> exact_;  // includes "null" for file:// pages
};

// Headers the gateway adds for browsers; shared by every response.
inline constexpr std::string_view kCorsAllowMethods = "GET, POST, OPTIONS";
inline constexpr std::string_view kCorsDefaultAllowHeaders = "Authorization, Content-Type";
// Preflight echoes Access-Control-Request-Headers (SDKs add their own x-stainless-*), bounded:
inline constexpr std::size_t kCorsMaxRequestHeadersBytes = 2048;
inline constexpr std::string_view kCorsExposeHeaders =
    "x-gateway-route, x-gateway-model, x-gateway-escalation-reason, Server-Timing, "
    "x-request-id, retry-after, retry-after-ms, x-ratelimit-limit-requests, "
    "x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, "
    "x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens";
inline constexpr std::string_view kCorsMaxAgeSeconds = "600";

}  // namespace gw::http
