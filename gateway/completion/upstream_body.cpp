#include "gateway/completion/upstream_body.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace gw::chat {

namespace {
constexpr std::string_view kIncludeUsage = R"("stream_options":{"include_usage":true},)";

// More top-level members than this: re-serialised rather than scanned for repeats.
constexpr std::size_t kMaxSplicedMembers = 256;

// One top-level member of a JSON object body, as sent.
struct RawMember {
  std::string_view key;    // without the quotes; never holds an escape
  std::string_view bytes;  // "key":value
};

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i;
}

// Past the closing quote of the string opening at s[i]; npos if unterminated.
std::size_t end_of_string(std::string_view s, std::size_t i) {
  for (std::size_t from = i + 1; from < s.size();) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (q == nullptr) return std::string_view::npos;
    const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
    std::size_t backslashes = 0;
    while (k - backslashes > i + 1 && s[k - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return k + 1;
    from = k + 1;
  }
  return std::string_view::npos;
}

// Past the value starting at s[i] (a validated document: no syntax checks).
std::size_t end_of_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return end_of_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = end_of_string(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && !is_json_space(s[i])) ++i;
  return i;
}

// The top-level members of a body parse_chat_request accepted; nullopt when they cannot be
// copied as they are: not a plain object (a byte-order mark), a key with an escape, a key sent
// twice (the tree keeps the last one; the bytes would carry both).
std::optional<std::vector<RawMember>> raw_members(std::string_view s) {
  std::vector<RawMember> members;
  std::size_t i = skip_space(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = skip_space(s, i + 1);
  if (i < s.size() && s[i] == '}') return members;
  while (i < s.size() && s[i] == '"') {
    const std::size_t key_end = end_of_string(s, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view key = s.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    for (const auto& m : members) {
      if (m.key == key) return std::nullopt;
    }
    std::size_t v = skip_space(s, key_end);
    if (v >= s.size() || s[v] != ':') return std::nullopt;
    const std::size_t value_end = end_of_value(s, skip_space(s, v + 1));
    if (value_end == std::string_view::npos) return std::nullopt;
    members.push_back({key, s.substr(i, value_end - i)});
    if (members.size() > kMaxSplicedMembers) return std::nullopt;
    i = skip_space(s, value_end);
    if (i < s.size() && s[i] == '}') return members;
    if (i >= s.size() || s[i] != ',') return std::nullopt;
    i = skip_space(s, i + 1);
  }
  return std::nullopt;
}

// `changed` (serialised) followed by the other members of `source` as sent, minus `dropped`.
std::optional<std::string> splice(std::string_view source, const nlohmann::json& changed,
                                  std::string_view dropped) {
  auto members = raw_members(source);
  if (!members) return std::nullopt;
  std::string out = "{";
  for (const auto& [key, value] : changed.items()) {
    if (out.size() > 1) out += ',';
    out += nlohmann::json(key).dump();
    out += ':';
    out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (const auto& m : *members) {
    if (m.key == dropped || changed.contains(m.key)) continue;
    out += ',';
    out += m.bytes;
  }
  out += '}';
  return out;
}

}  // namespace

std::string direct_body(const ChatRequest& request, const config::Model& model,
                        std::string client_body, StreamEdits& edits, bool stream_usage_option) {
  bool add_usage = stream_usage_option && request.stream && !request.include_usage;
  edits.drop_usage = add_usage;
  if (model.upstream_model == request.model) {
    if (!add_usage) return client_body;
    // (The passthrough endpoints fill `json` and not has_stream_options.)
    if (!request.has_stream_options && !request.json.contains("stream_options")) {
      // Splice the member in after the opening brace: still the client's bytes otherwise.
      auto brace = client_body.find('{');
      client_body.insert(brace + 1, kIncludeUsage);
      return client_body;
    }
  }
  // The body must change: only now is it read into a tree (parse_chat_request does not build one).
  nlohmann::json j = request.json.is_null() ? json_tree(client_body) : request.json;
  j["model"] = model.upstream_model;
  if (add_usage) j["stream_options"]["include_usage"] = true;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::uint32_t client_top_logprobs(const ChatRequest& request) {
  auto it = request.json.find("top_logprobs");
  if (it == request.json.end() || !it->is_number_unsigned()) return 0;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), 20));
}

std::string routed_body(const ChatRequest& request, const config::Model& model, bool stream,
                        bool want_logprobs, const nlohmann::json* messages,
                        std::uint32_t top_logprobs) {
  if (!request.source.empty()) {
    // The members this leg sets; every other member goes upstream as the client sent it.
    nlohmann::json changed = nlohmann::json::object();
    changed["model"] = model.upstream_model;
    changed["stream"] = stream;
    if (stream) {
      auto so = request.json.find("stream_options");
      changed["stream_options"] =
          so != request.json.end() && so->is_object() ? *so : nlohmann::json::object();
      changed["stream_options"]["include_usage"] = true;
    }
    if (want_logprobs && !request.logprobs) changed["logprobs"] = true;
    if (want_logprobs && top_logprobs > client_top_logprobs(request)) {
      changed["top_logprobs"] = top_logprobs;
    }
    if (messages) changed["messages"] = *messages;
    if (auto body = splice(request.source, changed, "stream_options")) return *std::move(body);
  }
  nlohmann::json j = request.json;
  j["model"] = model.upstream_model;
  j["stream"] = stream;
  if (stream) {
    j["stream_options"]["include_usage"] = true;
  } else {
    j.erase("stream_options");
  }
  if (want_logprobs && !request.logprobs) j["logprobs"] = true;
  if (want_logprobs && top_logprobs > client_top_logprobs(request)) {
    j["top_logprobs"] = top_logprobs;
  }
  if (messages) j["messages"] = *messages;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StreamEdits routed_edits(const ChatRequest& request, const config::Model& model, bool want_logprobs,
                         std::uint32_t top_logprobs) {
  StreamEdits e;
  if (model.upstream_model != model.name) e.model = model.name;
  e.strip_logprobs = want_logprobs && !request.logprobs;
  const std::uint32_t client_top = client_top_logprobs(request);
  if (want_logprobs && request.logprobs && top_logprobs > client_top) {
    e.keep_top_logprobs = static_cast<int>(client_top);
  }
  e.drop_usage = request.stream && !request.include_usage;
  return e;
}

std::string last_user_text(const nlohmann::json& body) {
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) return {};
  for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
    if (!it->is_object() || it->value("role", "") != "user") continue;
    auto content = it->find("content");
    if (content == it->end()) return {};
    if (content->is_string()) return content->get<std::string>();
    std::string text;
    if (content->is_array()) {
      for (const auto& part : *content) {
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
            part["text"].is_string()) {
          text += part["text"].get<std::string>();
        }
      }
    }
    return text;
  }
  return {};
}

}  // namespace gw::chat
