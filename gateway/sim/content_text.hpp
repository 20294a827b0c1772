#pragma once
// The text of an OpenAI message's content (chat messages and Responses input items alike).

#include <nlohmann/json.hpp>
#include <string>

namespace gw::sim {

// Content is a string or an array of parts (text, input_text, output_text, ...): only the parts'
// "text" strings count; anything else is no text.
std::string content_text(const nlohmann::json& content);

}  // namespace gw::sim
