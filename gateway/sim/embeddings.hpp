#pragma once
// Embeddings (POST /v1/embeddings) as llm-sim answers them: deterministic unit vectors of a small
// dimension, one per input, as floats or base64 (what the openai SDKs ask for by default). Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/sim/reply.hpp"

namespace gw::sim {

inline constexpr uint32_t kDefaultEmbeddingDimensions = 8;
inline constexpr uint32_t kMaxEmbeddingDimensions = 1024;  // bounded: `dimensions` is client input
inline constexpr size_t kMaxEmbeddingInputs = 2048;        // OpenAI's own limit per request

struct EmbeddingsRequest {
  ChatRequest chat;  // model, and the text the directives and the planner read
  std::vector<std::string> inputs;
  uint32_t dimensions = kDefaultEmbeddingDimensions;
  bool base64 = false;
};

// `input` (a string, strings, or token arrays), `dimensions`, `encoding_format`.
std::variant<EmbeddingsRequest, RequestError> parse_embeddings_request(std::string_view body);

// The same input always gets the same vector; usage counts prompt tokens only.
std::string embeddings_body(const EmbeddingsRequest& request, const ReplyPlan& plan);

}  // namespace gw::sim
