#pragma once
// ChatRequest: a /v1/chat/completions body parsed once and checked, or the 400 that says why not.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/http/openai_error.hpp"

namespace gw::chat {

struct ChatRequest {
  nlohmann::json json;  // the whole body; forwarded fields stay as the client sent them
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
};

std::variant<ChatRequest, http::OpenAiError> parse_chat_request(std::string_view body);

}  // namespace gw::chat
