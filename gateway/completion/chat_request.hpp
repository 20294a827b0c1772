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
  // The body as a tree; forwarded fields stay as the client sent them. Not built by
  // parse_chat_request for a body relayed unchanged (it never needs one: 30x the cost of
  // validating a large body): null until load_json() (prompt logging, tests) or keep_body().
  // For the routing alias, parse_chat_request builds it without `messages` (prompt_chars is
  // counted instead, and the legs splice the client's bytes): read them with messages_of().
  nlohmann::json json;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  bool has_stream_options = false;  // "stream_options" is present (null included)
  // policies::prompt_stats(messages).chars, counted while validating (the routing alias only).
  std::optional<std::uint64_t> prompt_chars;
  // The body's bytes, kept by load_json or keep_body: a routed leg's body is the client's bytes
  // with a few top-level members replaced (routed_body), not the tree re-serialised.
  std::string source;
};

// Validates the whole body in one linear pass and reads the fields above; the 400 otherwise,
// worded as nlohmann's parser and the checks word it. A body that names `routed_model` (the
// routing alias) gets its tree (without `messages`) and prompt_chars from the same parse: the
// routed path reads them, and a 1 MB body is neither parsed twice nor copied into a tree.
// `body` is read in place when its capacity leaves http::kJsonReadPaddingBytes past its end.
std::variant<ChatRequest, http::OpenAiError> parse_chat_request(const std::string& body,
                                                                std::string_view routed_model = {});

// `request.json` with `messages`, built from `body` (the bytes parse_chat_request accepted) or
// completed from `request.source` (or `body`) when built without them; when the tree was built
// here, `request.source` then holds a copy of `body` if it held nothing.
nlohmann::json& load_json(ChatRequest& request, std::string_view body);

// `body` itself moved into `request.source`, and the tree built if parse_chat_request did not
// (`messages` then included): the routed path, which needs the client's bytes for nothing else,
// does not copy them (a 1 MB RAG body).
void keep_body(ChatRequest& request, std::string&& body);

// The request's `messages`: the tree's, or read from `request.source` into `holder` when the
// tree was built without them (escalation and shadow judging need them; most requests do not).
// Such a request must have had keep_body() or load_json() first: `source` holds the bytes.
const nlohmann::json& messages_of(const ChatRequest& request, nlohmann::json& holder);

// The tree of a body parse_chat_request accepted.
nlohmann::json json_tree(std::string_view body);

}  // namespace gw::chat
