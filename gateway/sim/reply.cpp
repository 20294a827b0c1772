#include "gateway/sim/reply.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "gateway/sim/content_text.hpp"
#include "gateway/sim/directives.hpp"
#include "gateway/sim/eval_answers.hpp"
#include "gateway/sim/logprob_shape.hpp"
#include "gateway/sim/model_body.hpp"
#include "gateway/sim/tool_calls.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? end : buf);
}

LogprobShape shape_of(const ReplyPlan& plan) {
  return {plan.logprob, plan.min_logprob, plan.first_margin};
}

void append_usage(std::string& out, const ReplyPlan& plan) {
  const uint64_t completion = plan.tokens.size() + plan.tool_tokens;
  out += "\"usage\":{\"prompt_tokens\":";
  append_number(out, uint64_t{plan.prompt_tokens});
  out += ",\"completion_tokens\":";
  append_number(out, completion);
  out += ",\"total_tokens\":";
  append_number(out, plan.prompt_tokens + completion);
  out += '}';
}

std::string head(std::string_view object, std::string_view id, int64_t created,
                 std::string_view model) {
  std::string out = "{\"id\":";
  append_json_string(out, id);
  out += ",\"object\":\"";
  out += object;
  out += "\",\"created\":";
  append_number(out, static_cast<uint64_t>(created));
  out += ",\"model\":";
  append_json_string(out, model);
  out += ',';
  return out;
}

}  // namespace

std::variant<ChatRequest, RequestError> parse_chat_request(std::string_view body) {
  auto named = parse_model_body(body);
  if (auto* err = std::get_if<RequestError>(&named)) return *err;
  const json& doc = std::get<ModelBody>(named).doc;
  ChatRequest req;
  req.model = std::move(std::get<ModelBody>(named).model);

  auto messages = doc.find("messages");
  if (messages == doc.end() || !messages->is_array() || messages->empty()) {
    return invalid_request("'messages' must be a non-empty array", "messages");
  }
  uint64_t hash = fnv1a("");
  for (const json& m : *messages) {
    if (!m.is_object()) return invalid_request("each message must be an object", "messages");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) {
      return invalid_request("each message must have a string 'role'", "messages");
    }
    auto content = m.find("content");
    const std::string text = content == m.end() ? std::string{} : content_text(*content);
    hash = fnv1a(role->get_ref<const std::string&>(), hash);
    hash = fnv1a(std::string_view("\x1f", 1), hash);
    hash = fnv1a(text, hash);
    hash = fnv1a(std::string_view("\x1e", 1), hash);
    req.prompt_chars += text.size();
    if (role->get_ref<const std::string&>() == "user") req.last_user_text = text;
  }
  req.messages_hash = hash;
  req.agent = read_agent_request(doc);

  if (auto it = doc.find("stream"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return invalid_request("'stream' must be a boolean", "stream");
    req.stream = it->get<bool>();
  }
  if (auto it = doc.find("stream_options"); it != doc.end() && it->is_object()) {
    auto usage = it->find("include_usage");
    req.include_usage = usage != it->end() && usage->is_boolean() && usage->get<bool>();
  }
  if (auto it = doc.find("logprobs"); it != doc.end() && it->is_boolean()) {
    req.logprobs = it->get<bool>();
  }
  if (auto it = doc.find("top_logprobs"); it != doc.end() && it->is_number_unsigned()) {
    req.top_logprobs = static_cast<uint32_t>(std::min<uint64_t>(it->get<uint64_t>(), 20));
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > UINT32_MAX) {
      return invalid_request(std::string("'") + key + "' must be a positive integer", key);
    }
    const auto v = static_cast<uint32_t>(it->get<int64_t>());
    req.max_tokens = req.max_tokens ? std::min(*req.max_tokens, v) : v;
  }
  return req;
}

ReplyPlan plan_reply(const ChatRequest& request, const ModelProfile& profile, uint64_t seed) {
  const Script script = script_for(find_directives(request.last_user_text), request.model);
  ReplyPlan plan;
  plan.prompt_tokens = estimate_prompt_tokens(request.prompt_chars);
  plan.usage = !script.no_usage;
  plan.logprob = script.logprob.value_or(profile.logprob);
  plan.min_logprob = script.min_logprob;
  plan.first_margin = script.first_margin;
  plan.ttft_ms = script.ttft_ms.value_or(profile.ttft_ms);
  plan.tokens_per_s = script.tokens_per_s.value_or(profile.tokens_per_s);
  plan.cut_after = script.cut_after;
  plan.stall_after = script.stall_after;

  if (script.error_status) {
    plan.outcome = Outcome::error;
    plan.error_status = *script.error_status;
    plan.retry_after_s = script.retry_after_s;
    return plan;
  }
  if (script.garbage) {
    plan.outcome = Outcome::garbage;
    return plan;
  }
  if (script.stall) {
    plan.outcome = Outcome::stall;
    return plan;
  }
  if (script.cut_after && !request.stream) {
    plan.outcome = Outcome::cut;
    return plan;
  }
  if (script.empty) {
    plan.outcome = Outcome::empty;
    return plan;
  }

  const AgentAnswer agent =
      plan_agent_answer(request.agent, script, request.messages_hash % 100000);
  const bool scripted_text = script.echo || script.text || script.refuse || script.short_answer;
  if (!agent.calls.empty()) {
    plan.tokens = tokenize(agent.text.value_or(""));
    plan.tool_calls = agent.calls;
    plan.argument_pieces = agent.argument_pieces;
    for (const auto& call : agent.calls) {
      plan.tool_tokens += estimate_prompt_tokens(call.name.size() + call.arguments.size());
    }
    plan.finish_reason = "tool_calls";
  } else if (agent.text && !scripted_text) {
    plan.tokens = tokenize(*agent.text);  // structured output
  } else if (script.echo) {
    plan.tokens = tokenize(strip_directives(request.last_user_text));
  } else if (script.text) {
    plan.tokens = tokenize(*script.text);
  } else if (script.refuse) {
    plan.tokens = tokenize(kRefusalText);
  } else if (script.short_answer) {
    plan.tokens = tokenize(kShortText);
  } else if (!profile.text.empty()) {
    plan.tokens = tokenize(profile.text);
  } else if (auto eval = eval_answer(request.last_user_text, request.model, profile.accuracy, seed);
             eval && !script.tokens && !script.long_answer) {
    plan.tokens = tokenize(eval->text);
    if (!script.logprob) plan.logprob = eval->logprob;
  } else {
    const uint32_t count =
        script.tokens.value_or(script.long_answer ? kLongTokens : profile.answer_tokens);
    plan.tokens = generate_tokens(seed ^ request.messages_hash, count);
  }
  if (request.max_tokens && plan.tokens.size() > *request.max_tokens) {
    plan.tokens.truncate(*request.max_tokens);
    plan.finish_reason = "length";
  }
  if (script.force_length) plan.finish_reason = "length";
  return plan;
}

std::string error_body(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  append_json_string(out, message);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"param\":";
  if (param.empty()) {
    out += "null";
  } else {
    append_json_string(out, param);
  }
  out += ",\"code\":";
  if (code.empty()) {
    out += "null";
  } else {
    append_json_string(out, code);
  }
  out += "}}";
  return out;
}

std::string completion_body(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                            int64_t created) {
  std::string out = head("chat.completion", id, created, request.model);
  out.reserve(256 + plan.tokens.text().size() * (request.logprobs ? 12 : 1));
  if (plan.outcome == Outcome::empty) {
    out += "\"choices\":[]";
  } else {
    out += "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
    if (plan.tokens.empty() && !plan.tool_calls.empty()) {
      out += "null";  // what OpenAI sends for a bare tool call
    } else {
      append_json_string(out, plan.tokens.text());
    }
    if (!plan.tool_calls.empty()) {
      out += ',';
      append_tool_calls(out, plan.tool_calls);
    }
    out += "},\"logprobs\":";
    if (request.logprobs) {
      out += "{\"content\":[";
      for (size_t i = 0; i < plan.tokens.size(); ++i) {
        if (i) out += ',';
        append_logprob_entry(out, shape_of(plan), plan.tokens[i], i, plan.tokens.size(),
                             request.top_logprobs);
      }
      out += "]}";
    } else {
      out += "null";
    }
    out += ",\"finish_reason\":\"";
    out += plan.finish_reason;
    out += "\"}]";
  }
  if (plan.usage) {
    out += ',';
    append_usage(out, plan);
  }
  out += '}';
  return out;
}

ChunkRenderer::ChunkRenderer(const ChatRequest& request, const ReplyPlan& plan, std::string_view id,
                             int64_t created)
    : request_(request),
      plan_(plan),
      prefix_("data: " + head("chat.completion.chunk", id, created, request.model)) {}

std::string ChunkRenderer::role() const {
  return prefix_ +
         "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
         "\"logprobs\":null,\"finish_reason\":null}]}\n\n";
}

std::string ChunkRenderer::token(size_t i) const {
  const std::string_view tok = plan_.tokens[i];
  std::string out = prefix_;
  out += "\"choices\":[{\"index\":0,\"delta\":{\"content\":";
  append_json_string(out, tok);
  out += "},\"logprobs\":";
  if (request_.logprobs) {
    out += "{\"content\":[";
    append_logprob_entry(out, shape_of(plan_), tok, i, plan_.tokens.size(), request_.top_logprobs);
    out += "]}";
  } else {
    out += "null";
  }
  out += ",\"finish_reason\":null}]}\n\n";
  return out;
}

std::string ChunkRenderer::finish() const {
  std::string out = prefix_;
  out += "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"";
  out += plan_.finish_reason;
  out += "\"}]}\n\n";
  return out;
}

std::string ChunkRenderer::usage() const {
  std::string out = prefix_;
  out += "\"choices\":[],";
  append_usage(out, plan_);
  out += "}\n\n";
  return out;
}

std::string ChunkRenderer::delta(std::string_view delta_json) const {
  std::string out = prefix_;
  out += "\"choices\":[{\"index\":0,\"delta\":";
  out += delta_json;
  out += ",\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  return out;
}

std::string ChunkRenderer::no_choices() const {
  return prefix_ + "\"choices\":[]}\n\n";
}

}  // namespace gw::sim
