#pragma once
// Character counting for the length rules. Prompts and drafts are untrusted
// text: these never throw and never read past the end.

#include <cstdint>
#include <string>
#include <string_view>

namespace gw::utf8 {

// Number of Unicode code points in `text`. Each well-formed UTF-8 sequence
// counts one; each byte that is not part of one (stray continuation byte,
// truncated or overlong sequence, surrogate, > U+10FFFF) also counts one.
std::uint64_t code_points(std::string_view text);

// `text` with every byte that code_points() counts as invalid replaced by
// U+FFFD, so that the result can be serialised as JSON.
std::string sanitize(std::string_view text);

}  // namespace gw::utf8
