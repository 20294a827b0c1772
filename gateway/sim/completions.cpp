#include "gateway/sim/completions.hpp"

#include <nlohmann/json.hpp>

#include "gateway/sim/model_body.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;

std::string usage_member(const ReplyPlan& plan) {
  const uint64_t out = plan.tokens.size();
  return "\"usage\":{\"prompt_tokens\":" + std::to_string(plan.prompt_tokens) +
         ",\"completion_tokens\":" + std::to_string(out) +
         ",\"total_tokens\":" + std::to_string(plan.prompt_tokens + out) + "}";
}

}  // namespace

std::variant<ChatRequest, RequestError> parse_completions_request(std::string_view body) {
  auto named = parse_model_body(body);
  if (auto* err = std::get_if<RequestError>(&named)) return *err;
  const json& doc = std::get<ModelBody>(named).doc;
  ChatRequest req;
  req.model = std::move(std::get<ModelBody>(named).model);
  auto prompt = doc.find("prompt");
  std::string text;
  if (prompt != doc.end() && prompt->is_string()) {
    text = prompt->get<std::string>();
  } else if (prompt != doc.end() && prompt->is_array()) {
    for (const json& p : *prompt) {
      if (p.is_string()) text += p.get<std::string>();
    }
  } else {
    return invalid_request("'prompt' must be a string or an array of strings", "prompt");
  }
  req.last_user_text = text;
  req.prompt_chars = text.size();
  req.messages_hash = fnv1a(text, fnv1a("prompt"));
  if (auto it = doc.find("stream"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return invalid_request("'stream' must be a boolean", "stream");
    req.stream = it->get<bool>();
  }
  if (auto it = doc.find("stream_options"); it != doc.end() && it->is_object()) {
    auto usage = it->find("include_usage");
    req.include_usage = usage != it->end() && usage->is_boolean() && usage->get<bool>();
  }
  if (auto it = doc.find("max_tokens"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > UINT32_MAX) {
      return invalid_request("'max_tokens' must be a positive integer", "max_tokens");
    }
    req.max_tokens = static_cast<uint32_t>(it->get<int64_t>());
  }
  return req;
}

CompletionsWire::CompletionsWire(const ChatRequest& request, const ReplyPlan& plan,
                                 std::string_view id, int64_t created)
    : request_(request), plan_(plan) {
  prefix_ = "{\"id\":" + json("cmpl-" + std::string(id)).dump() +
            ",\"object\":\"text_completion\",\"created\":" + std::to_string(created) +
            ",\"model\":" + json(request.model).dump() + ",";
}

std::string CompletionsWire::body() const {
  std::string out = prefix_ + "\"choices\":[";
  if (plan_.outcome != Outcome::empty) {
    out += "{\"text\":" + json(plan_.tokens.text()).dump() +
           ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"" +
           std::string(plan_.finish_reason) + "\"}";
  }
  out += "]";
  if (plan_.usage) {
    out += ',';
    out += usage_member(plan_);
  }
  return out + "}";
}

std::string CompletionsWire::chunk(std::string_view text, std::string_view finish_reason) const {
  std::string out = "data: " + prefix_ + "\"choices\":[{\"text\":" + json(text).dump() +
                    ",\"index\":0,\"logprobs\":null,\"finish_reason\":";
  if (finish_reason.empty()) {
    out += "null";
  } else {
    out += '"';
    out += finish_reason;
    out += '"';
  }
  return out + "}]}\n\n";
}

std::string CompletionsWire::token(size_t i) const {
  return chunk(plan_.tokens[i], "");
}

std::vector<std::string> CompletionsWire::closing() const {
  std::vector<std::string> out;
  if (plan_.outcome != Outcome::empty) out.push_back(chunk("", plan_.finish_reason));
  if (request_.include_usage && plan_.usage) {
    out.push_back("data: " + prefix_ + "\"choices\":[]," + usage_member(plan_) + "}\n\n");
  }
  out.push_back("data: [DONE]\n\n");
  return out;
}

}  // namespace gw::sim
