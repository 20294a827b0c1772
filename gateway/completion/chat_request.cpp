#include "gateway/completion/chat_request.hpp"

#include "gateway/http/request_checks.hpp"

namespace gw::chat {

namespace {

// What a nlohmann exception says, from its first word: "[json.exception.parse_error.101] parse
// error at line 1, column 2: ..." -> "parse error at line 1, column 2: ...".
std::string reason_of(const nlohmann::json::exception& e) {
  std::string what = e.what();
  if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
  return what;
}

std::variant<ChatRequest, http::OpenAiError> parse_and_check(std::string_view body) {
  ChatRequest r;
  if (auto err = http::nesting_too_deep(body)) return *err;
  r.json = nlohmann::json::parse(body);  // throws: see parse_chat_request
  if (!r.json.is_object()) return http::invalid_request("request body must be a JSON object", "");
  const auto& j = r.json;

  auto model = http::requested_model(j);
  if (auto* err = std::get_if<http::OpenAiError>(&model)) return *err;
  r.model = std::get<std::string>(std::move(model));

  auto messages = j.find("messages");
  if (messages == j.end())
    return http::invalid_request("'messages' is a required property", "messages");
  if (!messages->is_array() || messages->empty()) {
    return http::invalid_request("'messages' must be a non-empty array", "messages");
  }
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    auto role = m.is_object() ? m.find("role") : m.end();
    if (!m.is_object() || role == m.end() || !role->is_string()) {
      return http::invalid_request(
          "messages[" + std::to_string(i) + "] must be an object with a string 'role'",
          "messages[" + std::to_string(i) + "]");
    }
    auto content = m.find("content");
    if (content != m.end() && !content->is_string() && !content->is_array() &&
        !content->is_null()) {
      return http::invalid_request(
          "messages[" + std::to_string(i) + "].content must be a string or an array",
          "messages[" + std::to_string(i) + "].content");
    }
  }

  auto flags = http::stream_flags(j);
  if (auto* err = std::get_if<http::OpenAiError>(&flags)) return *err;
  r.stream = std::get<http::StreamFlags>(flags).stream;
  r.include_usage = std::get<http::StreamFlags>(flags).include_usage;
  if (auto lp = j.find("logprobs"); lp != j.end() && !lp->is_null()) {
    if (!lp->is_boolean()) return http::invalid_request("'logprobs' must be a boolean", "logprobs");
    r.logprobs = lp->get<bool>();
  }
  for (const char* key : {"max_tokens", "max_completion_tokens", "n"}) {
    if (auto v = j.find(key); v != j.end() && !v->is_null() && !v->is_number_unsigned()) {
      return http::invalid_request(std::string("'") + key + "' must be a non-negative integer",
                                   key);
    }
  }
  if (auto t = j.find("temperature"); t != j.end() && !t->is_null() && !t->is_number()) {
    return http::invalid_request("'temperature' must be a number", "temperature");
  }
  return r;
}

}  // namespace

std::variant<ChatRequest, http::OpenAiError> parse_chat_request(std::string_view body) {
  // The one place a client's JSON can fail to parse or convert: the whole exception family,
  // not only parse_error (a number out of range, 1e999, throws out_of_range), is the client's
  // 400, never an exception escaping into the session.
  try {
    return parse_and_check(body);
  } catch (const nlohmann::json::parse_error& e) {
    return http::make_error(400, "request body is not valid JSON: " + reason_of(e), "invalid_json");
  } catch (const nlohmann::json::exception& e) {
    return http::make_error(400, "request body is not usable JSON: " + reason_of(e),
                            "invalid_json");
  }
}

}  // namespace gw::chat
