#include "gateway/http/cors.hpp"

namespace gw::http {

CorsPolicy::CorsPolicy(std::vector<std::string> allow_origins) {
  for (auto& o : allow_origins) {
    if (o == "*") {
      wildcard_ = true;
    } else {
      exact_.push_back(std::move(o));
    }
  }
}

std::string CorsPolicy::allow_origin(std::string_view request_origin) const {
  if (request_origin.empty()) return wildcard_ ? "*" : "";
  for (const auto& o : exact_) {
    if (o == request_origin) return o;  // echo the exact origin, also "null"
  }
  return wildcard_ ? "*" : "";
}

}  // namespace gw::http
