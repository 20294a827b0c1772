#include "gateway/sim/responses_api.hpp"

#include <nlohmann/json.hpp>

#include "gateway/sim/content_text.hpp"
#include "gateway/sim/model_body.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

void add_message(ChatRequest& req, std::string_view role, const std::string& text) {
  req.messages_hash = fnv1a(role, req.messages_hash);
  req.messages_hash = fnv1a(std::string_view("\x1f", 1), req.messages_hash);
  req.messages_hash = fnv1a(text, req.messages_hash);
  req.messages_hash = fnv1a(std::string_view("\x1e", 1), req.messages_hash);
  req.prompt_chars += text.size();
  if (role == "user") req.last_user_text = text;
}

ordered usage_json(const ReplyPlan& plan) {
  const uint64_t out = plan.tokens.size();
  return {{"input_tokens", plan.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", 0}}},
          {"output_tokens", out},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", plan.prompt_tokens + out}};
}

ordered text_part(std::string_view text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", ordered::array()}};
}

}  // namespace

std::variant<ChatRequest, RequestError> parse_responses_request(std::string_view body) {
  auto named = parse_model_body(body);
  if (auto* err = std::get_if<RequestError>(&named)) return *err;
  const json& doc = std::get<ModelBody>(named).doc;
  ChatRequest req;
  req.model = std::move(std::get<ModelBody>(named).model);
  req.messages_hash = fnv1a("");
  if (auto it = doc.find("instructions"); it != doc.end() && it->is_string()) {
    add_message(req, "system", it->get<std::string>());
  }
  auto input = doc.find("input");
  if (input == doc.end() || input->is_null())
    return invalid_request("'input' is required", "input");
  if (input->is_string()) {
    add_message(req, "user", input->get<std::string>());
  } else if (input->is_array()) {
    for (const json& item : *input) {
      if (!item.is_object()) return invalid_request("each input item must be an object", "input");
      if (auto out = item.find("output"); out != item.end()) {  // function_call_output
        add_message(req, "tool", out->is_string() ? out->get<std::string>() : out->dump());
        continue;
      }
      auto role = item.find("role");
      auto content = item.find("content");
      if (role == item.end() || !role->is_string()) continue;  // other item types: no text
      add_message(req, role->get_ref<const std::string&>(),
                  content == item.end() ? std::string{} : content_text(*content));
    }
  } else {
    return invalid_request("'input' must be a string or an array of input items", "input");
  }
  if (auto it = doc.find("stream"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return invalid_request("'stream' must be a boolean", "stream");
    req.stream = it->get<bool>();
  }
  req.include_usage = true;  // a response always reports its usage
  if (auto it = doc.find("max_output_tokens"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > UINT32_MAX) {
      return invalid_request("'max_output_tokens' must be a positive integer", "max_output_tokens");
    }
    req.max_tokens = static_cast<uint32_t>(it->get<int64_t>());
  }
  return req;
}

ResponsesWire::ResponsesWire(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                             int64_t created)
    : request_(request),
      plan_(plan),
      id_("resp_" + std::string(id)),
      item_id_("msg_" + std::string(id)),
      created_(created) {}

std::string ResponsesWire::message_item(bool finished) const {
  ordered item = {{"id", item_id_},
                  {"type", "message"},
                  {"status", finished ? "completed" : "in_progress"},
                  {"role", "assistant"},
                  {"content", ordered::array()}};
  if (finished) item["content"].push_back(text_part(plan_.tokens.text()));
  return item.dump();
}

std::string ResponsesWire::response_object(bool finished) const {
  const bool cut_short = plan_.finish_reason == "length";
  ordered r = {{"id", id_},
               {"object", "response"},
               {"created_at", created_},
               {"status", !finished   ? "in_progress"
                          : cut_short ? "incomplete"
                                      : "completed"},
               {"error", nullptr},
               {"incomplete_details", nullptr},
               {"instructions", nullptr},
               {"max_output_tokens", nullptr},
               {"model", request_.model},
               {"output", ordered::array()},
               {"parallel_tool_calls", true},
               {"previous_response_id", nullptr},
               {"temperature", 1.0},
               {"text", {{"format", {{"type", "text"}}}}},
               {"tool_choice", "auto"},
               {"tools", ordered::array()},
               {"top_p", 1.0},
               {"truncation", "disabled"},
               {"usage", nullptr},
               {"metadata", ordered::object()}};
  if (request_.max_tokens) r["max_output_tokens"] = *request_.max_tokens;
  if (finished) {
    if (cut_short) r["incomplete_details"] = {{"reason", "max_output_tokens"}};
    if (plan_.outcome != Outcome::empty) r["output"].push_back(ordered::parse(message_item(true)));
    if (plan_.usage) r["usage"] = usage_json(plan_);
    // Not in the wire format (the SDKs compute it); here so a curl user sees the text too.
    r["output_text"] = plan_.tokens.text();
  }
  return r.dump();
}

std::string ResponsesWire::body() const {
  return response_object(true);
}

std::string ResponsesWire::event(std::string_view type, std::string_view fields) const {
  // `event:` names the type as the API does; data repeats it with the sequence number first.
  std::string out = "event: ";
  out.append(type).append("\ndata: {\"type\":\"").append(type).append("\",\"sequence_number\":");
  out.append(std::to_string(sequence_++)).append(",").append(fields).append("}\n\n");
  return out;
}

std::vector<std::string> ResponsesWire::opening() const {
  sequence_ = 0;
  const std::string where = "\"item_id\":" + json(item_id_).dump() + ",\"output_index\":0,";
  std::vector<std::string> out;
  out.push_back(event("response.created", "\"response\":" + response_object(false)));
  out.push_back(event("response.in_progress", "\"response\":" + response_object(false)));
  if (plan_.outcome == Outcome::empty) return out;
  out.push_back(
      event("response.output_item.added", "\"output_index\":0,\"item\":" + message_item(false)));
  out.push_back(event("response.content_part.added",
                      where + "\"content_index\":0,\"part\":" + text_part("").dump()));
  return out;
}

std::string ResponsesWire::token(size_t i) const {
  return event("response.output_text.delta", "\"item_id\":" + json(item_id_).dump() +
                                                 ",\"output_index\":0,\"content_index\":0,"
                                                 "\"delta\":" +
                                                 json(plan_.tokens[i]).dump() + ",\"logprobs\":[]");
}

std::vector<std::string> ResponsesWire::closing() const {
  const std::string where =
      "\"item_id\":" + json(item_id_).dump() + ",\"output_index\":0,\"content_index\":0,";
  const std::string text = json(plan_.tokens.text()).dump();
  std::vector<std::string> out;
  if (plan_.outcome != Outcome::empty) {
    out.push_back(
        event("response.output_text.done", where + "\"text\":" + text + ",\"logprobs\":[]"));
    out.push_back(event("response.content_part.done",
                        where + "\"part\":" + text_part(plan_.tokens.text()).dump()));
    out.push_back(
        event("response.output_item.done", "\"output_index\":0,\"item\":" + message_item(true)));
  }
  const bool cut_short = plan_.finish_reason == "length";
  out.push_back(event(cut_short ? "response.incomplete" : "response.completed",
                      "\"response\":" + response_object(true)));
  return out;
}

}  // namespace gw::sim
