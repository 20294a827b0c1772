#pragma once
// Internal to the config loader (gateway/config/load*.cpp).

#include <cstddef>
#include <cstdint>

namespace gw::config::detail {

// Bounds of the numeric settings, in one place.
constexpr unsigned kMaxThreads = 1024;
constexpr std::uint64_t kMaxBodyBytes = 1073741824;  // 1 GiB
constexpr std::uint32_t kMinHeaderBytes = 1024;
constexpr std::uint32_t kMaxHeaderBytes = 1048576;
constexpr std::uint32_t kMaxTimeoutMs = 86400000;  // one day
constexpr std::uint32_t kMaxHoldTokens = 4096;
constexpr std::uint64_t kMinHoldBytes = 1024;               // routing.stream.hold_max_bytes
constexpr std::uint64_t kMinDraftBytes = 1024;              // routing.draft_max_bytes
constexpr std::uint64_t kMinDecisionLogBytes = 4096;        // routing.decision_log_max_bytes
constexpr std::uint64_t kMaxDecisionLogBytes = 1ull << 40;  // 1 TiB
constexpr std::uint32_t kMaxShadowInflight = 1024;          // routing.shadow.max_inflight
constexpr std::uintmax_t kMaxConfigFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxQuotedChars = 60;  // longer values are clipped in messages

}  // namespace gw::config::detail
