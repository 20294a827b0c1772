// Upstream bytes -> Beast's response parser with the gateway's limits -> what the gateway reads
// out of an answer: interim 1xx skipped, a non-2xx body wrapped into an OpenAI error, a 2xx body
// read as a completion (draft text, usage, the edits relayed answers get) and as an SSE stream
// (chunks, accumulation, per-event edits). An upstream is untrusted: nothing here may crash,
// throw out, or grow without bound.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/completion/whole_completion.hpp"
#include "gateway/http/json_text.hpp"
#include "gateway/http/openai_error.hpp"
#include "gateway/http/sse_parser.hpp"

namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using nlohmann::json;

namespace {

constexpr std::uint32_t kUpstreamHeaderBytes = 64 * 1024;  // gateway/upstream/call.cpp
constexpr std::size_t kUpstreamBodyBytes = 1 << 20;        // error bodies; fuzz inputs are smaller

void read_whole_answer(const std::string& body) {
  // What the gateway runs on a whole answer: SAX facts and a rewrite, never a JSON tree.
  if (auto facts = gw::chat::read_completion_facts(body)) {
    gw::chat::CompletionEdits edits;
    edits.model = "client-model";
    edits.strip_logprobs = facts->draft.tokens % 2 == 0;
    edits.usage = gw::chat::Usage{3, 4, true};
    edits.keep_top_logprobs = 1;
    (void)gw::chat::rewrite_completion(body, edits);
  }
  json j;
  if (gw::http::json_nesting_within(body, gw::http::kMaxJsonDepth)) {
    j = json::parse(body, nullptr, false);
  }
  (void)gw::chat::read_completion(j);
  (void)gw::chat::read_usage(j);
  (void)gw::chat::usage_in(body);
  if (j.is_object()) {
    gw::chat::add_usage(j, {3, 4, true});
    gw::chat::strip_logprobs(j);
    (void)j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

void read_stream(std::string_view body, std::uint8_t knobs) {
  gw::http::SseParser sse;
  sse.feed(body);
  gw::chat::DraftText draft;
  gw::chat::StreamEdits edits;
  if (knobs & 1) edits.model = "client-model";
  edits.strip_logprobs = knobs & 2;
  edits.drop_usage = knobs & 4;
  if (knobs & 8) edits.add_usage = {5, 6, true};
  while (auto ev = sse.next()) {
    if (!ev->has_data) continue;
    if (auto chunk = gw::chat::read_chunk(ev->data)) gw::chat::accumulate(draft, *chunk);
    (void)gw::chat::usage_in(ev->data);
    (void)gw::chat::edit_chunk(ev->data, edits);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gw::fuzz::FuzzInput input(data, size);
  std::uint8_t knobs = input.byte();
  std::string_view in = input.rest();
  // Interim responses (100, 103) come first and are skipped: at most a few.
  for (int responses = 0; !in.empty() && responses < 8; ++responses) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kUpstreamHeaderBytes);
    parser.body_limit(kUpstreamBodyBytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && !in.empty()) {
      std::size_t used = parser.put(net::buffer(in.data(), in.size()), ec);
      in.remove_prefix(used);
      if (ec == bhttp::error::need_more) {
        if (used == 0) break;
        ec = {};
        continue;
      }
      if (ec) break;
    }
    if (!parser.is_done() && !ec) parser.put_eof(ec);  // the upstream closed
    if (ec || !parser.is_done()) return 0;             // a 502 for the client
    auto& res = parser.get();
    unsigned status = res.result_int();
    if (status >= 100 && status < 200) continue;
    if (status < 200 || status > 299) {
      auto err = gw::http::wrap_upstream_error(status, res.body(), "fuzz-model");
      (void)err.body();
      return 0;
    }
    read_whole_answer(res.body());
    read_stream(res.body(), knobs);
    return 0;
  }
  return 0;
}
