#include "gateway/sim/embeddings.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace gw::sim {
namespace {

using nlohmann::json;

EmbeddingsRequest parse_embeddings_ok(std::string_view body) {
  auto parsed = parse_embeddings_request(body);
  EXPECT_TRUE(std::holds_alternative<EmbeddingsRequest>(parsed));
  return std::get<EmbeddingsRequest>(parsed);
}

TEST(Embeddings, DeterministicUnitVectorsAndPromptTokens) {
  const EmbeddingsRequest req =
      parse_embeddings_ok(R"({"model":"m","input":["abcd","efgh ijkl"]})");
  const ReplyPlan plan = plan_reply(req.chat, ModelProfile{}, 1);
  const json a = json::parse(embeddings_body(req, plan));
  const json b = json::parse(embeddings_body(req, plan));
  EXPECT_EQ(a, b);
  ASSERT_EQ(a["data"].size(), 2u);
  double norm = 0;
  for (double x : a["data"][0]["embedding"]) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-6);
  EXPECT_EQ(a["data"][0]["embedding"].size(), kDefaultEmbeddingDimensions);
  EXPECT_NE(a["data"][0]["embedding"], a["data"][1]["embedding"]);
  EXPECT_EQ(a["usage"]["prompt_tokens"], a["usage"]["total_tokens"]);
  EXPECT_FALSE(a["usage"].contains("completion_tokens"));
}

TEST(Embeddings, Base64IsLittleEndianFloat32) {
  const EmbeddingsRequest req =
      parse_embeddings_ok(R"({"model":"m","input":"x","dimensions":3,"encoding_format":"base64"})");
  const json body = json::parse(embeddings_body(req, plan_reply(req.chat, ModelProfile{}, 1)));
  // 3 floats = 12 bytes = 16 base64 characters.
  EXPECT_EQ(body["data"][0]["embedding"].get<std::string>().size(), 16u);
}

TEST(Embeddings, BoundedInputs) {
  EXPECT_TRUE(std::holds_alternative<RequestError>(
      parse_embeddings_request(R"({"model":"m","input":"x","dimensions":100000})")));
  EXPECT_TRUE(std::holds_alternative<RequestError>(parse_embeddings_request(R"({"model":"m"})")));
  EXPECT_TRUE(std::holds_alternative<RequestError>(
      parse_embeddings_request(R"({"model":"m","input":[]})")));
}

}  // namespace
}  // namespace gw::sim
