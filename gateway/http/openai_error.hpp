#pragma once
// Every error the gateway sends, its own or an upstream's, is an OpenAI error object:
// {"error":{"message":...,"type":...,"param":...,"code":...}}.

#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/rate_limit_hints.hpp"

namespace gw::http {

struct OpenAiError {
  unsigned status = 500;
  std::string message;
  std::string type;                  // invalid_request_error, authentication_error, ...
  std::optional<std::string> param;  // JSON null when absent
  std::optional<std::string> code;   // JSON null when absent
  HeaderLines headers{};             // sent with it: an upstream's rate-limit hints

  std::string body() const;  // the JSON object, serialised
};

// The OpenAI `type` that fits an HTTP status (400 -> invalid_request_error, ...).
std::string_view error_type_for_status(unsigned status);

OpenAiError make_error(unsigned status, std::string message, std::optional<std::string> code = {},
                       std::optional<std::string> param = {});

// The 404 for a model the gateway does not serve (chat, the passthrough endpoints,
// /v1/models/{id}).
OpenAiError model_not_found(std::string_view model);

// An upstream's error response as the client sees it: its status kept; its body kept when it
// already is an OpenAI error object, otherwise wrapped with the upstream's text as the message.
OpenAiError wrap_upstream_error(unsigned status, std::string_view upstream_body,
                                std::string_view model);

}  // namespace gw::http
