#include "gateway/sim/embeddings.hpp"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "gateway/sim/model_body.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<float> vector_for(std::string_view text, uint32_t dimensions) {
  std::vector<float> v(dimensions);
  uint64_t state = fnv1a(text);
  double norm = 0;
  for (auto& x : v) {
    x = static_cast<float>(static_cast<double>(splitmix(state) >> 11) / 9007199254740992.0 - 0.5);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  for (auto& x : v) x = static_cast<float>(x / (norm > 0 ? norm : 1));
  return v;
}

std::string base64(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t b = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < n) b |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < n) b |= data[i + 2];
    out += kAlphabet[(b >> 18) & 63];
    out += kAlphabet[(b >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[b & 63] : '=';
  }
  return out;
}

}  // namespace

std::variant<EmbeddingsRequest, RequestError> parse_embeddings_request(std::string_view body) {
  auto named = parse_model_body(body);
  if (auto* err = std::get_if<RequestError>(&named)) return *err;
  const json& doc = std::get<ModelBody>(named).doc;
  EmbeddingsRequest req;
  req.chat.model = std::move(std::get<ModelBody>(named).model);
  auto input = doc.find("input");
  if (input == doc.end()) return invalid_request("'input' is a required property", "input");
  if (input->is_string()) {
    req.inputs.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty()) {
    // Strings, or token arrays: a token array's text is its numbers (deterministic, not decoded).
    const bool tokens = (*input)[0].is_number_integer();
    if (tokens) {
      req.inputs.push_back(input->dump());
    } else {
      for (const json& x : *input) {
        if (x.is_string()) {
          req.inputs.push_back(x.get<std::string>());
        } else if (x.is_array()) {
          req.inputs.push_back(x.dump());
        } else {
          return invalid_request("'input' must be a string, an array of strings or token arrays",
                                 "input");
        }
      }
    }
  } else {
    return invalid_request("'input' must be a non-empty string or array", "input");
  }
  if (req.inputs.size() > kMaxEmbeddingInputs) {
    return invalid_request(
        "'input' may hold at most " + std::to_string(kMaxEmbeddingInputs) + " items", "input");
  }
  if (auto it = doc.find("dimensions"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > kMaxEmbeddingDimensions) {
      return invalid_request(
          "'dimensions' must be an integer from 1 to " + std::to_string(kMaxEmbeddingDimensions),
          "dimensions");
    }
    req.dimensions = static_cast<uint32_t>(it->get<int64_t>());
  }
  if (auto it = doc.find("encoding_format"); it != doc.end() && it->is_string()) {
    req.base64 = *it == "base64";
  }
  for (const auto& text : req.inputs) {
    req.chat.prompt_chars += text.size();
    req.chat.last_user_text = text;  // directives ride in the last input
  }
  return req;
}

std::string embeddings_body(const EmbeddingsRequest& request, const ReplyPlan& plan) {
  json data = json::array();
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const std::vector<float> v = vector_for(request.inputs[i], request.dimensions);
    json embedding;
    if (request.base64) {
      // Little-endian float32s, as the API sends them (every platform we build on is LE).
      std::vector<unsigned char> bytes(v.size() * sizeof(float));
      std::memcpy(bytes.data(), v.data(), bytes.size());
      embedding = base64(bytes.data(), bytes.size());
    } else {
      embedding = v;
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  json body = {{"object", "list"}, {"data", std::move(data)}, {"model", request.chat.model}};
  if (plan.usage) {
    body["usage"] = {{"prompt_tokens", plan.prompt_tokens}, {"total_tokens", plan.prompt_tokens}};
  }
  return body.dump();
}

}  // namespace gw::sim
