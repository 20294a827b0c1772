#include "gateway/http/request_checks.hpp"

#include <utility>

#include "gateway/http/json_text.hpp"

namespace gw::http {

OpenAiError invalid_request(std::string message, std::string param) {
  return make_error(400, std::move(message), "invalid_request", std::move(param));
}

std::optional<OpenAiError> nesting_too_deep(std::string_view body) {
  if (json_nesting_within(body, kMaxJsonDepth)) return std::nullopt;
  return make_error(
      400, "request body nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels",
      "invalid_json");
}

std::variant<std::string, OpenAiError> requested_model(const nlohmann::json& body) {
  auto model = body.find("model");
  if (model == body.end()) return invalid_request("you must provide a model parameter", "model");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid_request("'model' must be a non-empty string", "model");
  }
  return model->get<std::string>();
}

std::variant<StreamFlags, OpenAiError> stream_flags(const nlohmann::json& body) {
  StreamFlags f;
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return invalid_request("'stream' must be a boolean", "stream");
    f.stream = s->get<bool>();
  }
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) {
      return invalid_request("'stream_options' must be an object", "stream_options");
    }
    if (auto iu = so->find("include_usage"); iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) {
        return invalid_request("'stream_options.include_usage' must be a boolean",
                               "stream_options.include_usage");
      }
      f.include_usage = iu->get<bool>();
    }
  }
  return f;
}

}  // namespace gw::http
