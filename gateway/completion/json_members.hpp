#pragma once
// The top-level members of a validated JSON object, as sent: what lets the gateway change one
// member of a body it relays and copy the others byte for byte, instead of re-serialising.

#include <optional>
#include <string_view>
#include <vector>

namespace gw::chat {

// More top-level members than this: the caller re-serialises rather than scanning for repeats.
inline constexpr std::size_t kMaxSplicedMembers = 256;

// One top-level member of a JSON object body, as sent.
struct RawMember {
  std::string_view key;    // without the quotes; never holds an escape
  std::string_view bytes;  // "key":value
};

// The top-level members of `s`, a document a JSON parser has accepted (no syntax is checked
// here); nullopt when they cannot be copied as they are: not a plain object (a byte-order mark),
// a key with an escape, a key sent twice (a tree keeps the last one; the bytes would carry both),
// more than kMaxSplicedMembers members.
std::optional<std::vector<RawMember>> raw_members(std::string_view s);

}  // namespace gw::chat
