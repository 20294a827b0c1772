#pragma once
// The checks every client JSON request body shares (chat and the passthrough endpoints), so
// they refuse alike, in one wording.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/http/openai_error.hpp"

namespace gw::http {

// A 400 invalid_request about `param` (empty: not about one field).
OpenAiError invalid_request(std::string message, std::string param);

// The 400 for a body nested deeper than kMaxJsonDepth (checked before parsing, so a deep body
// never reaches the recursive parser); nullopt when it is within.
std::optional<OpenAiError> nesting_too_deep(std::string_view body);

// The body's "model": a non-empty string, or the 400 naming what is wrong with it.
std::variant<std::string, OpenAiError> requested_model(const nlohmann::json& body);

// "stream" and "stream_options.include_usage" as sent (absent or null: false), or the 400 when
// either is not a boolean (or stream_options not an object).
struct StreamFlags {
  bool stream = false;
  bool include_usage = false;
};
std::variant<StreamFlags, OpenAiError> stream_flags(const nlohmann::json& body);

}  // namespace gw::http
