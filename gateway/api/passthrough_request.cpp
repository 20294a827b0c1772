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
  if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
    if (!s->is_boolean()) return http::invalid_request("'stream' must be a boolean", "stream");
    r.stream = endpoint.streams && s->get<bool>();
  }
  if (auto so = j.find("stream_options"); so != j.end() && !so->is_null()) {
    if (!so->is_object())
      return http::invalid_request("'stream_options' must be an object", "stream_options");
    if (auto iu = so->find("include_usage"); iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) {
        return http::invalid_request("'stream_options.include_usage' must be a boolean",
                                     "stream_options.include_usage");
      }
      r.include_usage = iu->get<bool>();
    }
  }
  return r;
}

}  // namespace gw::api
