#pragma once
// Rate-limit hints: the `retry-after`, `retry-after-ms` and `x-ratelimit-*` headers of an
// upstream's error answer, kept (bounded, sanitised) so the client's SDK can back off with them.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

using HeaderLines = std::vector<std::pair<std::string, std::string>>;

// Bounded: an upstream cannot make us relay an arbitrary header block.
inline constexpr std::size_t kMaxRelayedHintHeaders = 16;
inline constexpr std::size_t kMaxRelayedHintValueBytes = 256;
inline constexpr std::size_t kMaxRelayedHintNameBytes = 64;
// What the gateway's own 429/503 answers (overload, draining) advise.
inline constexpr std::string_view kOwnRetryAfterSeconds = "1";

// True for the header names relayed: retry-after, retry-after-ms, x-ratelimit-* (any case).
bool is_rate_limit_hint(std::string_view name);

// Appends `name: value` (name lower-cased) to `hints` when it is a hint, its value is a single
// printable line within the bounds, and fewer than kMaxRelayedHintHeaders are kept already.
void keep_rate_limit_hint(HeaderLines& hints, std::string_view name, std::string_view value);

bool has_header(const HeaderLines& lines, std::string_view lower_name);

}  // namespace gw::http
