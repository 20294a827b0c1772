#include "gateway/completion/chat_request.hpp"

#include <cstdint>

#include "base/utf8.hpp"
#include "gateway/completion/json_members.hpp"
#include "gateway/completion/json_parser.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/http/request_checks.hpp"
#include "policies/prompt.hpp"

namespace gw::chat {

namespace {

using nlohmann::json;

// ---- what a bad body is told: one wording for both readers below ----

// What a nlohmann exception says, from its first word: "[json.exception.parse_error.101] parse
// error at line 1, column 2: ..." -> "parse error at line 1, column 2: ...".
std::string reason_of(const json::exception& e) {
  std::string what = e.what();
  if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
  return what;
}

http::OpenAiError not_an_object() {
  return http::invalid_request("request body must be a JSON object", "");
}

http::OpenAiError messages_missing() {
  return http::invalid_request("'messages' is a required property", "messages");
}

http::OpenAiError messages_not_a_list() {
  return http::invalid_request("'messages' must be a non-empty array", "messages");
}

// messages[i] has no string `role` (`role_ok` false), or a content that is not text, parts or null.
std::optional<http::OpenAiError> message_error(std::size_t i, bool role_ok, bool content_ok) {
  const std::string at = "messages[" + std::to_string(i) + "]";
  if (!role_ok) return http::invalid_request(at + " must be an object with a string 'role'", at);
  if (!content_ok) {
    return http::invalid_request(at + ".content must be a string or an array", at + ".content");
  }
  return std::nullopt;
}

// ---- the checks of the members other than messages, on a tree (whole, or the small one) ----

std::optional<http::OpenAiError> read_model(const json& j, ChatRequest& r) {
  auto model = http::requested_model(j);
  if (auto* err = std::get_if<http::OpenAiError>(&model)) return *err;
  r.model = std::get<std::string>(std::move(model));
  return std::nullopt;
}

// The count members: a non-negative integer when set.
constexpr const char* kCountKeys[] = {"max_tokens", "max_completion_tokens", "n"};

std::optional<http::OpenAiError> read_options(const json& j, ChatRequest& r) {
  auto flags = http::stream_flags(j);
  if (auto* err = std::get_if<http::OpenAiError>(&flags)) return *err;
  r.stream = std::get<http::StreamFlags>(flags).stream;
  r.include_usage = std::get<http::StreamFlags>(flags).include_usage;
  if (auto lp = j.find("logprobs"); lp != j.end() && !lp->is_null()) {
    if (!lp->is_boolean()) return http::invalid_request("'logprobs' must be a boolean", "logprobs");
    r.logprobs = lp->get<bool>();
  }
  for (const char* key : kCountKeys) {
    if (auto v = j.find(key); v != j.end() && !v->is_null() && !v->is_number_unsigned()) {
      return http::invalid_request(std::string("'") + key + "' must be a non-negative integer",
                                   key);
    }
  }
  if (auto t = j.find("temperature"); t != j.end() && !t->is_null() && !t->is_number()) {
    return http::invalid_request("'temperature' must be a number", "temperature");
  }
  return std::nullopt;
}

// ---- the exact reader: nlohmann's tree of the whole body ----
// Used when the fast reader cannot decide: nlohmann words every parse error, and it accepts a
// few bodies simdjson refuses (integers beyond 64 bits, a leading byte-order mark).

std::optional<http::OpenAiError> check_messages(const json& j) {
  auto messages = j.find("messages");
  if (messages == j.end()) return messages_missing();
  if (!messages->is_array() || messages->empty()) return messages_not_a_list();
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    auto role = m.is_object() ? m.find("role") : m.end();
    const bool role_ok = m.is_object() && role != m.end() && role->is_string();
    auto content = role_ok ? m.find("content") : m.end();
    const bool content_ok =
        content == m.end() || content->is_string() || content->is_array() || content->is_null();
    if (auto err = message_error(i, role_ok, content_ok)) return err;
  }
  return std::nullopt;
}

std::variant<ChatRequest, http::OpenAiError> check_tree(json tree) {
  if (!tree.is_object()) return not_an_object();
  ChatRequest r;
  r.has_stream_options = tree.contains("stream_options");
  if (auto err = read_model(tree, r)) return *err;
  if (auto err = check_messages(tree)) return *err;
  if (auto err = read_options(tree, r)) return *err;
  r.json = std::move(tree);
  return r;
}

std::variant<ChatRequest, http::OpenAiError> parse_with_tree(std::string_view body) {
  // The whole exception family, not only parse_error (a number out of range, 1e999, throws
  // out_of_range), is the client's 400, never an exception escaping into the session.
  try {
    return check_tree(json::parse(body));
  } catch (const json::parse_error& e) {
    return http::make_error(400, "request body is not valid JSON: " + reason_of(e), "invalid_json");
  } catch (const json::exception& e) {
    return http::make_error(400, "request body is not usable JSON: " + reason_of(e),
                            "invalid_json");
  }
}

// ---- the fast reader: simdjson validates the whole body (UTF-8, strings, numbers, structure)
// at GB/s, and only the members the checks read become a (small) tree ----

json tree_of(simdjson::dom::element e) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::OBJECT: {
      json object = json::object();
      const simdjson::dom::object members = e.get_object().value_unsafe();
      // operator[] assigns: a repeated key keeps its last value, as nlohmann's parser does.
      for (auto member : members) object[std::string(member.key)] = tree_of(member.value);
      return object;
    }
    case Type::ARRAY: {
      json array = json::array();
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (auto item : items) array.push_back(tree_of(item));
      return array;
    }
    case Type::STRING:
      return std::string(e.get_string().value_unsafe());
    case Type::INT64: {
      // nlohmann reads an integer without a minus sign as unsigned.
      const std::int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? json(static_cast<std::uint64_t>(v)) : json(v);
    }
    case Type::UINT64:
      return e.get_uint64().value_unsafe();
    case Type::DOUBLE:
      return e.get_double().value_unsafe();
    case Type::BOOL:
      return e.get_bool().value_unsafe();
    case Type::NULL_VALUE:
      break;
  }
  return nullptr;
}

bool is_count_key(std::string_view key) {
  for (const char* k : kCountKeys) {
    if (key == k) return true;
  }
  return false;
}

// The top level as the checks need it: every member but `messages` as a small tree (each a
// scalar or a small object in practice), `messages` left in simdjson's document.
struct TopLevel {
  json members = json::object();
  std::optional<simdjson::dom::element> messages;  // the last "messages", as nlohmann keeps it
  // simdjson reads "-0" and "0" alike; nlohmann does not (integer vs unsigned), and a count
  // member's check tells them apart: such a body goes to the exact reader.
  bool ambiguous = false;
};

TopLevel read_top_level(simdjson::dom::object root) {
  TopLevel top;
  for (auto member : root) {
    if (member.key == "messages") {
      top.messages = member.value;
      continue;
    }
    if (is_count_key(member.key) && member.value.type() == simdjson::dom::element_type::INT64 &&
        member.value.get_int64().value_unsafe() == 0) {
      top.ambiguous = true;
    }
    top.members[std::string(member.key)] = tree_of(member.value);
  }
  return top;
}

// nlohmann's check_messages, on simdjson's document; a repeated key counts with its last value.
std::optional<http::OpenAiError> check_messages(std::optional<simdjson::dom::element> messages) {
  if (!messages) return messages_missing();
  simdjson::dom::array list;
  if (messages->get_array().get(list) != simdjson::SUCCESS || list.size() == 0) {
    return messages_not_a_list();
  }
  std::size_t i = 0;
  for (auto m : list) {
    std::optional<simdjson::dom::element> role, content;
    simdjson::dom::object fields;
    const bool object = m.get_object().get(fields) == simdjson::SUCCESS;
    if (object) {
      for (auto field : fields) {
        if (field.key == "role") role = field.value;
        if (field.key == "content") content = field.value;
      }
    }
    const bool role_ok = object && role && role->is_string();
    const bool content_ok =
        !content || content->is_string() || content->is_array() || content->is_null();
    if (auto err = message_error(i, role_ok, content_ok)) return err;
    ++i;
  }
  return std::nullopt;
}

// The last member named `key` of an object, as nlohmann keeps a repeated key.
std::optional<simdjson::dom::element> last_member(simdjson::dom::object object,
                                                  std::string_view key) {
  std::optional<simdjson::dom::element> found;
  for (auto member : object) {
    if (member.key == key) found = member.value;
  }
  return found;
}

// policies::prompt_stats(messages).chars, on simdjson's document of messages check_messages
// accepted: what the rules count, without copying the prompt into a tree.
std::uint64_t prompt_chars(simdjson::dom::array messages) {
  std::uint64_t chars = 0;
  for (auto m : messages) {
    const simdjson::dom::object fields = m.get_object().value_unsafe();
    const auto role = last_member(fields, "role");
    if (!policies::rules_read(role->get_string().value_unsafe())) continue;
    const auto content = last_member(fields, "content");
    if (!content) continue;
    std::string_view text;
    if (content->get_string().get(text) == simdjson::SUCCESS) {
      chars += utf8::code_points(text);
      continue;
    }
    simdjson::dom::array parts;
    if (content->get_array().get(parts) != simdjson::SUCCESS) continue;
    for (auto part : parts) {
      simdjson::dom::object members;
      if (part.get_object().get(members) != simdjson::SUCCESS) continue;
      const auto type = last_member(members, "type");
      const auto part_text = last_member(members, "text");
      std::string_view type_name;
      if (!type || type->get_string().get(type_name) != simdjson::SUCCESS || type_name != "text" ||
          !part_text || part_text->get_string().get(text) != simdjson::SUCCESS) {
        continue;
      }
      chars += utf8::code_points(text);
    }
  }
  return chars;
}

// nullopt when simdjson refuses the body or cannot tell what nlohmann would say: the exact
// reader then decides (and words a parse error).
std::optional<std::variant<ChatRequest, http::OpenAiError>> parse_fast(
    const std::string& body, std::string_view routed_model) {
  simdjson::dom::element root;
  // (The std::string overload reads the body in place when its capacity allows.)
  if (thread_json_parser().parse(body).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return not_an_object();
  TopLevel top = read_top_level(object);
  if (top.ambiguous) return std::nullopt;
  ChatRequest r;
  r.has_stream_options = top.members.contains("stream_options");
  if (auto err = read_model(top.members, r)) return *err;
  if (auto err = check_messages(top.messages)) return *err;
  if (auto err = read_options(top.members, r)) return *err;
  if (!routed_model.empty() && r.model == routed_model) {
    // The routed path's tree: every member but `messages` (read from the client's bytes if
    // ever needed: messages_of), whose text the rules count here.
    r.json = std::move(top.members);
    r.prompt_chars = prompt_chars(top.messages->get_array().value_unsafe());
  }
  return r;
}

}  // namespace

std::variant<ChatRequest, http::OpenAiError> parse_chat_request(const std::string& body,
                                                                std::string_view routed_model) {
  // simdjson is not recursive and refuses what is too deep (see thread_json_parser).
  if (!thread_json_parser_depth_limited()) {
    if (auto err = http::nesting_too_deep(body)) return *err;
  }
  if (auto fast = parse_fast(body, routed_model)) return std::move(*fast);
  // Depth first: a deep body never reaches nlohmann's recursive reader.
  if (auto err = http::nesting_too_deep(body)) return *err;
  return parse_with_tree(body);
}

json json_tree(std::string_view body) {
  simdjson::dom::element root;
  if (thread_json_parser().parse(body.data(), body.size()).get(root) == simdjson::SUCCESS) {
    return tree_of(root);
  }
  return json::parse(body, nullptr, false);  // what simdjson refuses and nlohmann accepted
}

namespace {

// The `messages` of a body parse_chat_request accepted, read from its bytes: that member alone
// when the members can be told apart as sent, else from the whole tree.
json messages_in(std::string_view body) {
  if (auto members = raw_members(body)) {
    for (const auto& m : *members) {
      // `bytes` is "messages":value, and that key holds no ':'.
      if (m.key == "messages") return json_tree(m.bytes.substr(m.bytes.find(':') + 1));
    }
  }
  json whole = json_tree(body);
  auto it = whole.find("messages");
  return it == whole.end() ? json() : std::move(*it);
}

}  // namespace

json& load_json(ChatRequest& request, std::string_view body) {
  if (request.json.is_null()) {
    request.json = json_tree(body);
    if (request.source.empty()) request.source.assign(body);
  } else if (!request.json.contains("messages")) {
    request.json["messages"] = messages_in(request.source.empty() ? body : request.source);
  }
  return request.json;
}

void keep_body(ChatRequest& request, std::string&& body) {
  if (request.json.is_null()) request.json = json_tree(body);
  request.source = std::move(body);
}

const json& messages_of(const ChatRequest& request, json& holder) {
  if (auto it = request.json.find("messages"); it != request.json.end()) return *it;
  holder = messages_in(request.source);
  return holder;
}

}  // namespace gw::chat
