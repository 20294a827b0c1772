#include "gateway/completion/completion.hpp"

#include "gateway/completion/json_parser.hpp"
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

// Appends the token logprobs; `first_margin` gets the margin of the first entry read.
void read_logprobs(const json& choice, std::vector<double>& out,
                   std::optional<double>* first_margin = nullptr) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) return;
  auto content = lp->find("content");
  if (content == lp->end() || !content->is_array()) return;
  for (const auto& t : *content) {
    if (!t.is_object()) continue;
    auto v = t.find("logprob");
    if (v != t.end() && v->is_number()) {
      if (first_margin && out.empty()) *first_margin = top2_margin(t);
      out.push_back(v->get<double>());
    }
  }
}

std::uint64_t count_at(const json& usage, const char* key) {
  auto it = usage.find(key);
  return it != usage.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// The counts of a usage object's text read by simdjson (no tree: this runs on every relayed
// answer and stream's last event); nullopt when simdjson refuses the text. A key sent twice
// counts as its last value, as in a tree.
std::optional<Usage> usage_of(std::string_view text) {
  simdjson::dom::element root;
  simdjson::dom::object usage;
  if (thread_json_parser().parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (root.get_object().get(usage) != simdjson::SUCCESS) return Usage{};
  auto count = [](simdjson::dom::element v) -> std::uint64_t {
    std::int64_t i = 0;
    std::uint64_t u = 0;
    if (v.is_int64() && v.get_int64().get(i) == simdjson::SUCCESS) {
      return i >= 0 ? static_cast<std::uint64_t>(i) : 0;
    }
    return v.is_uint64() && v.get_uint64().get(u) == simdjson::SUCCESS ? u : 0;
  };
  std::uint64_t prompt = 0, completion = 0, input = 0, output = 0;
  bool has_prompt = false, has_input = false;
  for (auto field : usage) {
    if (field.key == "prompt_tokens") {
      prompt = count(field.value);
      has_prompt = true;
    } else if (field.key == "completion_tokens") {
      completion = count(field.value);
    } else if (field.key == "input_tokens") {
      input = count(field.value);
      has_input = true;
    } else if (field.key == "output_tokens") {
      output = count(field.value);
    }
  }
  // The Responses API names them input/output tokens.
  if (!has_prompt && has_input) return Usage{input, output, true};
  return Usage{prompt, completion, true};
}

}  // namespace

std::optional<DraftText> read_completion(const json& body) {
  const json* choice = first_choice(body);
  if (!choice) return std::nullopt;
  auto message = choice->find("message");
  if (message == choice->end() || !message->is_object()) return std::nullopt;
  DraftText d;
  d.text = string_at(*message, "content");
  // A structured-output refusal comes as `refusal` with `content: null`: judged as its text.
  if (d.text.empty()) d.text = string_at(*message, "refusal");
  read_message_tool_calls(*message, 0, d.tool_calls);
  d.finish_reason = string_at(*choice, "finish_reason");
  read_logprobs(*choice, d.logprobs, &d.first_margin);
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

std::optional<double> top2_margin(const json& entry) {
  if (!entry.is_object()) return std::nullopt;
  auto top = entry.find("top_logprobs");
  if (top == entry.end() || !top->is_array()) return std::nullopt;
  // The two highest, whatever order the upstream listed them in.
  std::optional<double> first, second;
  for (const auto& alt : *top) {
    if (!alt.is_object()) continue;
    auto v = alt.find("logprob");
    if (v == alt.end() || !v->is_number()) continue;
    const double x = v->get<double>();
    if (!first || x > *first) {
      second = first;
      first = x;
    } else if (!second || x > *second) {
      second = x;
    }
  }
  if (!second) return std::nullopt;
  return *first - *second;
}

template <class Json>
static void trim_top_logprobs_in(Json& body, std::uint32_t keep) {
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array()) return;
  for (auto& c : *choices) {
    if (!c.is_object()) continue;
    auto lp = c.find("logprobs");
    if (lp == c.end() || !lp->is_object()) continue;
    auto content = lp->find("content");
    if (content == lp->end() || !content->is_array()) continue;
    for (auto& t : *content) {
      if (!t.is_object()) continue;
      auto top = t.find("top_logprobs");
      if (top != t.end() && top->is_array() && top->size() > keep) {
        top->erase(top->begin() + keep, top->end());
      }
    }
  }
}

void trim_top_logprobs(json& body, std::uint32_t keep) {
  trim_top_logprobs_in(body, keep);
}

std::optional<Chunk> read_chunk(std::string_view data) {
  // A JSON tree costs many times its text: a chunk larger than any token delta is not read.
  if (data.size() > kMaxParsedChunkBytes) return std::nullopt;
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
  read_logprobs(*choice, c.logprobs, &c.first_margin);
  return c;
}

void accumulate(DraftText& draft, const Chunk& chunk) {
  draft.text += chunk.content;
  if (!chunk.finish_reason.empty()) draft.finish_reason = chunk.finish_reason;
  if (draft.logprobs.empty() && !chunk.logprobs.empty()) draft.first_margin = chunk.first_margin;
  draft.logprobs.insert(draft.logprobs.end(), chunk.logprobs.begin(), chunk.logprobs.end());
  const bool tool_delta = accumulate_tool_calls(chunk.json, draft.tool_calls);
  if (!chunk.content.empty() || tool_delta) ++draft.tokens;  // both are draft progress
}

std::optional<std::string> edit_chunk(std::string_view data, const StreamEdits& edits) {
  std::string same(data);
  if (!edits.any() || data == "[DONE]") return same;
  bool has_usage = (edits.drop_usage || edits.add_usage.present) &&
                   data.find("\"usage\"") != std::string_view::npos;
  bool has_logprobs = edits.strip_logprobs && data.find("\"logprobs\"") != std::string_view::npos;
  const bool has_top = !edits.strip_logprobs && edits.keep_top_logprobs >= 0 &&
                       data.find("\"top_logprobs\"") != std::string_view::npos;
  if (edits.model.empty() && !has_usage && !has_logprobs && !has_top) return same;
  if (data.size() > kMaxParsedChunkBytes) return same;  // relayed as it came, never a tree
  if (!http::json_nesting_within(data, http::kMaxJsonDepth)) return same;  // never re-serialised
  // Parsed keeping the upstream's key order; re-serialised only when an edit changed something,
  // so an event the gateway leaves alone reaches the client byte for byte.
  using ordered = nlohmann::ordered_json;
  ordered j = ordered::parse(data, nullptr, false);
  if (!j.is_object()) return same;  // not ours to judge: relay as it came
  bool changed = false;
  if (auto usage = j.find("usage"); has_usage && usage != j.end() && usage->is_object()) {
    if (edits.drop_usage) {
      auto choices = j.find("choices");
      if (choices == j.end() || !choices->is_array() || choices->empty()) return std::nullopt;
      j.erase("usage");
    } else {
      auto count = [&](const char* key) {
        auto it = usage->find(key);
        return it != usage->end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
      };
      std::uint64_t prompt = count("prompt_tokens") + edits.add_usage.prompt_tokens;
      std::uint64_t completion = count("completion_tokens") + edits.add_usage.completion_tokens;
      (*usage)["prompt_tokens"] = prompt;
      (*usage)["completion_tokens"] = completion;
      (*usage)["total_tokens"] = prompt + completion;
    }
    changed = true;
  }
  if (auto choices = j.find("choices"); has_logprobs && choices != j.end() && choices->is_array()) {
    for (auto& c : *choices) {
      auto lp = c.is_object() ? c.find("logprobs") : c.end();
      if (lp != c.end() && !lp->is_null()) {
        *lp = nullptr;
        changed = true;
      }
    }
  }
  if (has_top) {
    trim_top_logprobs_in(j, static_cast<std::uint32_t>(edits.keep_top_logprobs));
    changed = true;
  }
  if (auto model = j.find("model");
      !edits.model.empty() && model != j.end() && !(model->is_string() && *model == edits.model)) {
    *model = edits.model;
    changed = true;
  }
  if (!changed) return same;
  return j.dump(-1, ' ', false, ordered::error_handler_t::replace);
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
      const std::string_view text = data.substr(open, i - open + 1);
      if (auto fast = usage_of(text)) return *fast;
      json usage = json::parse(text, nullptr, false);  // what simdjson refused, nlohmann decides
      if (!usage.is_object()) return {};
      if (!usage.contains("prompt_tokens") && usage.contains("input_tokens")) {
        // The Responses API names them input/output tokens.
        return {count_at(usage, "input_tokens"), count_at(usage, "output_tokens"), true};
      }
      return {count_at(usage, "prompt_tokens"), count_at(usage, "completion_tokens"), true};
    }
  }
  return {};
}

std::uint64_t estimate_tokens(std::uint64_t chars) {
  return (chars + 3) / 4;
}

}  // namespace gw::chat
