// Client bytes -> Beast's request parser with the gateway's default limits -> the chat request
// parser -> the bodies sent upstream. What a client can make the gateway do before any upstream
// is involved: no crash, no exception escaping, no unbounded work.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/completion/chat_request.hpp"
#include "gateway/completion/upstream_body.hpp"
#include "gateway/config/config.hpp"
#include "gateway/exchange/request_body.hpp"
#include "policies/prompt.hpp"

namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

using Parser = bhttp::request_parser<gw::RequestBody>;  // as the gateway reads requests

// The body as the routed path reads it (its model named as the routing alias): the prompt
// counted on simdjson's document and the messages read back from the bytes must be what the
// whole tree (`whole`, built by load_json) says; a difference is a bug, reported as a crash.
void check_routed(const std::string& body, const gw::chat::ChatRequest& whole) {
  auto parsed = gw::chat::parse_chat_request(body, whole.model);
  auto* routed = std::get_if<gw::chat::ChatRequest>(&parsed);
  if (routed == nullptr) __builtin_trap();  // the same body was accepted above
  const nlohmann::json& messages = whole.json.at("messages");
  if (routed->prompt_chars &&
      *routed->prompt_chars != gw::policies::prompt_stats(messages, false).chars) {
    __builtin_trap();
  }
  gw::chat::keep_body(*routed, std::string(body));
  nlohmann::json holder;
  if (gw::chat::messages_of(*routed, holder) != messages) __builtin_trap();
  gw::config::Model model;
  model.name = routed->model;
  model.upstream_model = "upstream";
  (void)gw::chat::routed_body(*routed, model, false, true, nullptr, 2).text();
}

// What the gateway does with a complete request's body.
void handle_body(const std::string& body) {
  auto parsed = gw::chat::parse_chat_request(body);
  if (auto* err = std::get_if<gw::http::OpenAiError>(&parsed)) {
    (void)err->body();  // the 400 the client would get
    return;
  }
  auto& req = std::get<gw::chat::ChatRequest>(parsed);
  gw::chat::StreamEdits direct_edits;
  gw::config::Model same;
  same.name = same.upstream_model = req.model;
  (void)gw::chat::direct_body(req, same, body, direct_edits);  // before the tree exists, as served
  gw::chat::load_json(req, body);                              // as the routed path does
  if (auto messages = req.json.find("messages"); messages != req.json.end()) {
    (void)gw::policies::prompt_stats(*messages);
  }
  (void)gw::chat::last_user_text(req.json);
  gw::config::Model model;
  model.name = req.model;
  model.upstream_model = "upstream-" + req.model;
  gw::chat::StreamEdits edits;
  (void)gw::chat::direct_body(req, model, body, edits);
  (void)gw::chat::routed_body(req, model, true, true).text();
  (void)gw::chat::routed_edits(req, model, false);
  check_routed(body, req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const gw::config::Server limits;  // the defaults: 16 KiB of head, 1 MiB of body
  // Keep-alive: requests one after another on one connection, until one fails.
  for (int requests = 0; !in.empty() && requests < 16; ++requests) {
    Parser parser;
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && !in.empty()) {
      std::size_t used = parser.put(net::buffer(in.data(), in.size()), ec);
      in.remove_prefix(used);
      if (ec == bhttp::error::need_more) {
        if (used == 0) break;  // all that is left is an incomplete piece: end of connection
        ec = {};
        continue;
      }
      if (ec) break;
    }
    if (!parser.is_done() && !ec) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;  // the gateway answers 400/413/431 and closes
    auto& req = parser.get();
    (void)req[bhttp::field::host];
    (void)req[bhttp::field::authorization];
    (void)req.target();
    handle_body(req.body());
  }
  return 0;
}
