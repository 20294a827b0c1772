#pragma once
// The address-like strings of the configuration, parsed and checked once at load:
// listen addresses, upstream base URLs and CORS origins. Pure functions, no I/O;
// each returns the parsed value, or nothing and the reason in `why`.

#include <optional>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"

namespace gw::config {

// "127.0.0.1:8080", "[::1]:8080" or "localhost:8080"; port 0..65535 (0 = ephemeral).
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& why);

// "http://host[:port][/path]" or "https://…"; host is a DNS name, an IPv4 literal or
// "[IPv6]" (stored without brackets); port defaults to 80/443; trailing slashes of the
// path are dropped ("http://h/v1/" -> base_path "/v1", "http://h" -> "").
std::optional<UpstreamUrl> parse_upstream_url(std::string_view text, std::string& why);

// A CORS origin exactly as browsers send it: "*", "null" or "scheme://host[:port]",
// lowercase and without a path.
bool is_valid_origin(std::string_view text, std::string& why);

}  // namespace gw::config
