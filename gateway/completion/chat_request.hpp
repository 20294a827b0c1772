#pragma once
// ChatRequest: a /v1/chat/completions body validated once and read for what routing needs, or
// the 400 that says why not.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/http/openai_error.hpp"

namespace gw::chat {

struct ChatRequest {
  // The whole body as a tree; forwarded fields stay as the client sent them. Not built by
  // parse_chat_request (a body relayed unchanged never needs it: 30x the cost of validating a
  // large body): null until load_json(), which the routed path, a rewrite and prompt logging call.
  nlohmann::json json;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  bool has_stream_options = false;  // "stream_options" is present (null included)
  // The body's bytes, kept by load_json or keep_body: a routed leg's body is the client's bytes
  // with a few top-level members replaced (routed_body), not the tree re-serialised.
  std::string source;
};

// Validates the whole body in one linear pass and reads the fields above; the 400 otherwise,
// worded as nlohmann's parser and the checks word it. A body that names `routed_model` (the
// routing alias) gets its tree from the same parse, as load_json() would build it: the routed
// path reads it, and a 1 MB body is not parsed twice.
std::variant<ChatRequest, http::OpenAiError> parse_chat_request(std::string_view body,
                                                                std::string_view routed_model = {});

// `request.json`, built from `body` (the bytes parse_chat_request accepted) unless already built;
// `request.source` then holds a copy of `body`.
nlohmann::json& load_json(ChatRequest& request, std::string_view body);

// load_json(), then `body` itself moved into `request.source`: the routed path, which needs the
// client's bytes for nothing else, does not copy them (a 1 MB RAG body).
nlohmann::json& keep_body(ChatRequest& request, std::string&& body);

// The tree of a body parse_chat_request accepted.
nlohmann::json json_tree(std::string_view body);

}  // namespace gw::chat
