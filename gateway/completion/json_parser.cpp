#include "gateway/completion/json_parser.hpp"

#include "gateway/http/json_text.hpp"

namespace gw::chat {

static_assert(http::kJsonReadPaddingBytes >= simdjson::SIMDJSON_PADDING);

namespace {
// Buffers of a fresh parser: a typical chat body; they grow on demand.
constexpr std::size_t kInitialParserBytes = 64 * 1024;
}  // namespace

simdjson::dom::parser& thread_json_parser() {
  thread_local simdjson::dom::parser parser;
  thread_local bool allocated =
      parser.allocate(kInitialParserBytes, http::kMaxJsonDepth) == simdjson::SUCCESS;
  (void)allocated;  // if not, parse() allocates later, at simdjson's default depth
  return parser;
}

bool thread_json_parser_depth_limited() {
  return thread_json_parser().max_depth() == http::kMaxJsonDepth;
}

}  // namespace gw::chat
