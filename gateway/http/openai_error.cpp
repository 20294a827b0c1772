#include "gateway/http/openai_error.hpp"

#include <nlohmann/json.hpp>

#include "gateway/http/error_fields.hpp"

namespace gw::http {

namespace {
// Bounded: an upstream's HTML error page is not relayed in full.
constexpr std::size_t kMaxWrappedMessageBytes = 512;

nlohmann::json optional_json(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

std::string OpenAiError::body() const {
  nlohmann::json j = {{"error",
                       {{"message", message},
                        {"type", type},
                        {"param", optional_json(param)},
                        {"code", optional_json(code)}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view error_type_for_status(unsigned status) {
  switch (status) {
    case 400:
    case 404:
    case 405:
    case 413:
    case 415:
    case 431:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 408:
    case 504:
      return "timeout_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "service_unavailable_error";
    default:
      return status >= 500 ? "upstream_error" : "invalid_request_error";
  }
}

OpenAiError make_error(unsigned status, std::string message, std::optional<std::string> code,
                       std::optional<std::string> param) {
  return OpenAiError{status, std::move(message), std::string(error_type_for_status(status)),
                     std::move(param), std::move(code)};
}

OpenAiError model_not_found(std::string_view model) {
  return make_error(
      404, "The model '" + std::string(model) + "' does not exist or is not served by this gateway",
      "model_not_found", "model");
}

OpenAiError wrap_upstream_error(unsigned status, std::string_view upstream_body,
                                std::string_view model) {
  // Only the fields are read (bounded depth, no tree): the upstream's JSON is never re-serialised.
  if (auto f = read_error_fields(upstream_body)) {
    if (f->error_object) {
      OpenAiError out = make_error(status, f->message.value_or("upstream error"),
                                   std::move(f->code), std::move(f->param));
      if (f->type && !f->type->empty()) out.type = std::move(*f->type);
      return out;
    }
    // {"error":"text"}; read_error_fields sets one of the two, the check keeps that local.
    if (f->text) return make_error(status, std::move(*f->text), "upstream_error");
  }
  std::string text(upstream_body.substr(0, kMaxWrappedMessageBytes));
  if (text.empty()) text = "no body";
  return make_error(
      status,
      "upstream " + std::string(model) + " returned HTTP " + std::to_string(status) + ": " + text,
      "upstream_error");
}

}  // namespace gw::http
