#pragma once
// The OpenAI endpoints that pass through to a named model's upstream, besides chat: what each
// one forwards to and how its answers carry usage. Pure data.

#include <string_view>

namespace gw::api {

struct Endpoint {
  std::string_view path;           // the client's path, e.g. /v1/responses
  std::string_view upstream_path;  // after the model's base path, e.g. /responses
  bool streams;                    // `stream: true` is relayed as SSE
  // Streams report usage only when asked (stream_options.include_usage): the gateway asks, for
  // its token and cost metrics, and drops it for a client that did not.
  bool usage_on_request;
  std::string_view required_field;  // checked present; empty = none (Responses can go without)
  // What a client asking `auto` here is told to use instead.
  std::string_view auto_refusal;
};

inline constexpr Endpoint kResponses{"/v1/responses",
                                     "/responses",
                                     true,
                                     false,
                                     "",
                                     "is routed on /v1/chat/completions only; ask /v1/responses "
                                     "for a named model"};
inline constexpr Endpoint kCompletions{"/v1/completions",
                                       "/completions",
                                       true,
                                       true,
                                       "prompt",
                                       "is routed on /v1/chat/completions only; ask "
                                       "/v1/completions for a named model"};
inline constexpr Endpoint kEmbeddings{"/v1/embeddings",
                                      "/embeddings",
                                      false,
                                      false,
                                      "input",
                                      "routes chat answers and makes no embeddings; ask "
                                      "/v1/embeddings for a named model"};

}  // namespace gw::api
