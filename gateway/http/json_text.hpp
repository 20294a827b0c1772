#pragma once
// JSON text built by hand where a JSON library would allocate a tree per line or per token:
// log lines and the simulator's hot path.

#include <string>
#include <string_view>

namespace gw::http {

// Appends `s` as a JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

}  // namespace gw::http
