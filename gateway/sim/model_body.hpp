#pragma once
// The start every simulated API's request parser shares: the body must be a JSON object that
// names a model, refused with OpenAI's 400 wording otherwise, so the APIs refuse alike.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/sim/reply.hpp"

namespace gw::sim {

struct ModelBody {
  nlohmann::json doc;  // a JSON object
  std::string model;   // its "model": a non-empty string
};

std::variant<ModelBody, RequestError> parse_model_body(std::string_view body);

// A 400 invalid_request_error about `param` (empty = null), with a null code.
RequestError invalid_request(std::string message, std::string param);

}  // namespace gw::sim
