#pragma once
// The per-thread simdjson parser that validates request bodies and upstream answers before the
// few members the gateway reads are looked at. Include only from .cpp files: simdjson.h is large.

#include <simdjson.h>

namespace gw::chat {

// One simdjson parser per thread, reused: its buffers grow to the largest document seen (each
// caller bounds what it passes) instead of being allocated per request. It refuses a document
// nested deeper than http::kMaxJsonDepth, counting exactly as http::nesting_too_deep does
// (brackets outside strings, at most kMaxJsonDepth accepted), so a document it accepts needs no
// separate depth scan.
simdjson::dom::parser& thread_json_parser();

// Whether thread_json_parser() enforces http::kMaxJsonDepth (false only if its first allocation
// failed: it then parses at simdjson's default depth).
bool thread_json_parser_depth_limited();

}  // namespace gw::chat
