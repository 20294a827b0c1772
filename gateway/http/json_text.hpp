#pragma once
// JSON text built by hand where a JSON library would allocate a tree per line or per token:
// log lines and the simulator's hot path.

#include <cstddef>
#include <string>
#include <string_view>

namespace gw::http {

// Appends `s` as a JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

// Serialising a JSON value recurses per nesting level, so JSON from a client or an upstream is
// refused past this depth before it can exhaust the stack. Real chat bodies nest a few levels.
inline constexpr int kMaxJsonDepth = 64;

// Spare capacity past a body's last byte that lets simdjson read the body where it is (it reads
// up to SIMDJSON_PADDING bytes beyond the end, and copies a body without that capacity: 1 MB more
// copied per RAG request). Request bodies sent with a Content-Length are read into strings
// reserved with it.
inline constexpr std::size_t kJsonReadPaddingBytes = 64;

// Whether `text` nests arrays and objects at most `max_depth` deep (brackets in strings ignored).
bool json_nesting_within(std::string_view text, int max_depth);

}  // namespace gw::http
