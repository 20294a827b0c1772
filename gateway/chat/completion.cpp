#include "gateway/chat/completion.hpp"

#include "gateway/http/json_text.hpp"

namespace gw::chat {

namespace {

using nlohmann::json;

const json* first_choice(const json& body) {
  if (!body.is_object()) return nullptr;
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array() || choices->empty()) return nullptr;
  const json& c = (*choices)[0];
  return c.is_object() ? &c : nullptr;
}

std::string string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void read_logprobs(const json& choice, std::vector<double>& out) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) return;
  auto content = lp->find("content");
  if (content == lp->end() || !content->is_array()) return;
  for (const auto& t : *content) {
    if (!t.is_object()) continue;
    auto v = t.find("logprob");
    if (v != t.end() && v->is_number()) out.push_back(v->get<double>());
  }
}

std::uint64_t count_at(const json& usage, const char* key) {
  auto it = usage.find(key);
  return it != usage.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

std::optional<DraftText> read_completion(const json& body) {
  const json* choice = first_choice(body);
  if (!choice) return std::nullopt;
  auto message = choice->find("message");
  if (message == choice->end() || !message->is_object()) return std::nullopt;
  DraftText d;
  d.text = string_at(*message, "content");
  d.finish_reason = string_at(*choice, "finish_reason");
  read_logprobs(*choice, d.logprobs);
  d.tokens = d.logprobs.size();
  return d;
}

Usage read_usage(const json& body) {
  Usage u;
  if (!body.is_object()) return u;
  auto it = body.find("usage");
  if (it == body.end() || !it->is_object()) return u;
  u.prompt_tokens = count_at(*it, "prompt_tokens");
  u.completion_tokens = count_at(*it, "completion_tokens");
  u.present = true;
  return u;
}

void add_usage(json& body, const Usage& extra) {
  Usage u = read_usage(body);
  u.prompt_tokens += extra.prompt_tokens;
  u.completion_tokens += extra.completion_tokens;
  json& usage = body["usage"];
  if (!usage.is_object()) usage = json::object();
  usage["prompt_tokens"] = u.prompt_tokens;
  usage["completion_tokens"] = u.completion_tokens;
  usage["total_tokens"] = u.prompt_tokens + u.completion_tokens;
}

void strip_logprobs(json& body) {
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array()) return;
  for (auto& c : *choices) {
    if (c.is_object() && c.contains("logprobs")) c["logprobs"] = nullptr;
  }
}

std::optional<Chunk> read_chunk(std::string_view data) {
  if (!http::json_nesting_within(data, http::kMaxJsonDepth)) return std::nullopt;
  Chunk c;
  c.json = json::parse(data, nullptr, false);
  if (!c.json.is_object()) return std::nullopt;
  c.usage = read_usage(c.json);
  const json* choice = first_choice(c.json);
  if (!choice) return c;
  c.has_choices = true;
  if (auto delta = choice->find("delta"); delta != choice->end() && delta->is_object()) {
    c.content = string_at(*delta, "content");
  }
  c.finish_reason = string_at(*choice, "finish_reason");
  read_logprobs(*choice, c.logprobs);
  return c;
}

void accumulate(DraftText& draft, const Chunk& chunk) {
  draft.text += chunk.content;
  if (!chunk.finish_reason.empty()) draft.finish_reason = chunk.finish_reason;
  draft.logprobs.insert(draft.logprobs.end(), chunk.logprobs.begin(), chunk.logprobs.end());
  if (!chunk.content.empty()) ++draft.tokens;
}

std::optional<std::string> edit_chunk(std::string_view data, const StreamEdits& edits) {
  std::string same(data);
  if (!edits.any() || data == "[DONE]") return same;
  bool has_usage = (edits.drop_usage || edits.add_usage.present) &&
                   data.find("\"usage\"") != std::string_view::npos;
  bool has_logprobs = edits.strip_logprobs && data.find("\"logprobs\"") != std::string_view::npos;
  if (edits.model.empty() && !has_usage && !has_logprobs) return same;
  // From here on the event is re-serialised: only routed streams get here.
  if (!http::json_nesting_within(data, http::kMaxJsonDepth)) return same;  // never re-serialised
  json j = json::parse(data, nullptr, false);
  if (!j.is_object()) return same;  // not ours to judge: relay as it came
  if (has_usage && j.contains("usage") && j["usage"].is_object()) {
    if (edits.drop_usage) {
      auto choices = j.find("choices");
      if (choices == j.end() || !choices->is_array() || choices->empty()) return std::nullopt;
      j.erase("usage");
    } else {
      add_usage(j, edits.add_usage);
    }
  }
  if (has_logprobs) strip_logprobs(j);
  if (!edits.model.empty() && j.contains("model")) j["model"] = edits.model;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Usage usage_in(std::string_view data) {
  // Parse only the usage object, not the whole completion: this runs on every relayed answer.
  auto key = data.rfind("\"usage\"");
  if (key == std::string_view::npos) return {};
  auto open = data.find_first_not_of(" \t\r\n:", key + 7);
  if (open == std::string_view::npos || data[open] != '{') return {};
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < data.size(); ++i) {
    char c = data[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      json usage = json::parse(data.substr(open, i - open + 1), nullptr, false);
      if (!usage.is_object()) return {};
      return {count_at(usage, "prompt_tokens"), count_at(usage, "completion_tokens"), true};
    }
  }
  return {};
}

std::uint64_t estimate_tokens(std::uint64_t chars) {
  return (chars + 3) / 4;
}

}  // namespace gw::chat
