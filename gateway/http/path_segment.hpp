#pragma once
// One segment of a request path, percent-decoded: `/v1/models/{id}` ids such as Ollama's
// `phi4-mini:latest` arrive raw or encoded (`phi4-mini%3Alatest`, `org%2Fmodel`).

#include <optional>
#include <string>
#include <string_view>

namespace gw::http {

// nullopt when an escape is malformed or the result holds a control character.
std::optional<std::string> decode_path_segment(std::string_view s);

}  // namespace gw::http
