#include "gateway/api/passthrough_request.hpp"

#include "gateway/http/json_text.hpp"

namespace gw::api {

namespace {
http::OpenAiError bad(std::string message, std::string param) {
  return http::make_error(400, std::move(message), "invalid_request", std::move(param));
}
}  // namespace

std::variant<chat::ChatRequest, http::OpenAiError> parse_passthrough_request(
    std::string_view body, const Endpoint& endpoint) {
  chat::ChatRequest r;
  if (!http::json_nesting_within(body, http::kMaxJsonDepth)) {
    return http::make_error(
        400,
        "request body nests JSON deeper than " + std::to_string(http::kMaxJsonDepth) + " levels",
        "invalid_json");
  }
  r.json = nlohmann::json::parse(body, nullptr, false);
  if (r.json.is_discarded())
    return http::make_error(400, "request body is not valid JSON", "invalid_json");
  if (!r.json.is_object()) return bad("request body must be a JSON object", "");
  const auto& j = r.json;

  auto model = j.find("model");
  if (model == j.end()) return bad("you must provide a model parameter", "model");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return bad("'model' must be a non-empty string", "model");
  }
  r.model = model->get<std::string>();
  if (const std::string required(endpoint.required_field);
      !required.empty() && !j.contains(required)) {
    return bad("'" + required + "' is a required property", required);
  }
  if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
    if (!s->is_boolean()) return bad("'stream' must be a boolean", "stream");
    r.stream = endpoint.streams && s->get<bool>();
  }
  if (auto so = j.find("stream_options"); so != j.end() && !so->is_null()) {
    if (!so->is_object()) return bad("'stream_options' must be an object", "stream_options");
    if (auto iu = so->find("include_usage"); iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) {
        return bad("'stream_options.include_usage' must be a boolean",
                   "stream_options.include_usage");
      }
      r.include_usage = iu->get<bool>();
    }
  }
  return r;
}

}  // namespace gw::api
