#include "gateway/completion/upstream_body.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

#include "gateway/completion/json_members.hpp"

namespace gw::chat {

namespace {
constexpr std::string_view kIncludeUsage = R"("stream_options":{"include_usage":true},)";

// Below this many bytes, a client's body is copied into each leg's body rather than borrowed:
// copying a few KiB costs less than the pieces' bookkeeping (a small `auto` request measured
// 2% more CPU when borrowing, a 1 MB one 18% less).
constexpr std::size_t kMinBorrowedBodyBytes = 16 * 1024;

// `changed` (serialised) followed by the other members of `source` as sent, minus `dropped`.
// Those are borrowed from a large `source`: members next to each other as one piece (with
// whatever separates them there), separated by "," pieces, then a brace.
std::optional<http::OutgoingBody> splice(std::string_view source, const nlohmann::json& changed,
                                         std::string_view dropped) {
  auto members = raw_members(source);
  if (!members) return std::nullopt;
  http::OutgoingBody body;
  std::string& out = body.owned;
  out = "{";
  for (const auto& [key, value] : changed.items()) {
    if (out.size() > 1) out += ',';
    out += nlohmann::json(key).dump();
    out += ':';
    out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  const bool borrow = source.size() >= kMinBorrowedBodyBytes;
  if (!borrow) out.reserve(out.size() + source.size() + 1);
  const auto put = [&](std::string_view piece) {
    if (borrow) {
      body.borrowed.push_back(piece);
    } else {
      out += piece;
    }
  };
  std::size_t run_from = std::string_view::npos, run_to = 0;
  const auto end_run = [&] {
    if (run_from == std::string_view::npos) return;
    // A comma after what precedes: an earlier run (a piece), or the members set (owned).
    if (!body.borrowed.empty()) {
      put(",");
    } else if (out.size() > 1) {
      out += ',';
    }
    put(source.substr(run_from, run_to - run_from));
    run_from = std::string_view::npos;
  };
  for (const auto& m : *members) {
    if (m.key == dropped || changed.contains(m.key)) {
      end_run();
      continue;
    }
    const auto at = static_cast<std::size_t>(m.bytes.data() - source.data());
    if (run_from == std::string_view::npos) run_from = at;
    run_to = at + m.bytes.size();
  }
  end_run();
  put("}");
  return body;
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

http::OutgoingBody routed_body(const ChatRequest& request, const config::Model& model, bool stream,
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
  if (!messages && !j.contains("messages")) {  // a tree parse_chat_request built without them
    nlohmann::json read;
    messages_of(request, read);  // the tree has none: they are read into `read`
    j["messages"] = std::move(read);
  }
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
