#include "gateway/sim/model_body.hpp"

#include <utility>

namespace gw::sim {

RequestError invalid_request(std::string message, std::string param) {
  return RequestError{400, std::move(message), std::move(param), ""};
}

std::variant<ModelBody, RequestError> parse_model_body(std::string_view body) {
  using nlohmann::json;
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return invalid_request("We could not parse the JSON body of your request.", "");
  }
  if (!doc.is_object()) return invalid_request("The request body must be a JSON object.", "");
  auto model = doc.find("model");
  if (model == doc.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid_request("you must provide a model parameter", "model");
  }
  std::string name = model->get<std::string>();
  return ModelBody{std::move(doc), std::move(name)};
}

}  // namespace gw::sim
