#include "gateway/api/passthrough_request.hpp"

#include "gateway/http/request_checks.hpp"

namespace gw::api {

std::variant<chat::ChatRequest, http::OpenAiError> parse_passthrough_request(
    std::string_view body, const Endpoint& endpoint) {
  chat::ChatRequest r;
  if (auto err = http::nesting_too_deep(body)) return *err;
  r.json = nlohmann::json::parse(body, nullptr, false);
  if (r.json.is_discarded())
    return http::make_error(400, "request body is not valid JSON", "invalid_json");
  if (!r.json.is_object()) return http::invalid_request("request body must be a JSON object", "");
  const auto& j = r.json;

  auto model = http::requested_model(j);
  if (auto* err = std::get_if<http::OpenAiError>(&model)) return *err;
  r.model = std::get<std::string>(std::move(model));
  if (const std::string required(endpoint.required_field);
      !required.empty() && !j.contains(required)) {
    return http::invalid_request("'" + required + "' is a required property", required);
  }
  auto flags = http::stream_flags(j);
  if (auto* err = std::get_if<http::OpenAiError>(&flags)) return *err;
  r.stream = endpoint.streams && std::get<http::StreamFlags>(flags).stream;
  r.include_usage = std::get<http::StreamFlags>(flags).include_usage;
  return r;
}

}  // namespace gw::api
