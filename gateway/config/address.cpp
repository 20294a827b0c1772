#include "gateway/config/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace gw::config {
namespace {

constexpr std::uint32_t kMaxPort = 65535;

bool is_ipv4(std::string_view host) {
  in_addr out{};
  return inet_pton(AF_INET, std::string(host).c_str(), &out) == 1;
}

bool is_ipv6(std::string_view host) {
  in6_addr out{};
  return inet_pton(AF_INET6, std::string(host).c_str(), &out) == 1;
}

// A DNS name or IPv4 literal: letters, digits, '-', '.', '_' (Docker and Kubernetes
// service names use '_' rarely, but resolvers accept it).
bool is_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
}

std::optional<std::uint32_t> parse_port(std::string_view text) {
  std::uint32_t port = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port > kMaxPort) {
    return std::nullopt;
  }
  return port;
}

struct HostPort {
  std::string host;  // IPv6 without brackets
  bool bracketed = false;
  std::optional<std::string_view> port;  // nothing when no ':' follows the host
};

// Splits "host[:port]" or "[v6][:port]"; nothing when the brackets are unbalanced.
std::optional<HostPort> split_host_port(std::string_view text) {
  HostPort out;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    auto rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return std::nullopt;
    out.port = rest.substr(1);
    return out;
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(text);
    return out;
  }
  out.host = std::string(text.substr(0, colon));
  out.port = text.substr(colon + 1);
  return out;
}

bool has_upper(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& why) {
  auto parts = split_host_port(text);
  if (!parts || !parts->port) {
    why = "expected HOST:PORT, e.g. 127.0.0.1:8080";
    return std::nullopt;
  }
  bool host_ok = parts->bracketed ? is_ipv6(parts->host)
                                  : (parts->host == "localhost" || is_ipv4(parts->host));
  if (!host_ok) {
    why = "host must be an IPv4 address, [IPv6 address] or localhost";
    return std::nullopt;
  }
  auto port = parse_port(*parts->port);
  if (!port) {
    why = "port must be a number from 0 to 65535";
    return std::nullopt;
  }
  return ListenAddress{parts->host, static_cast<std::uint16_t>(*port)};
}

std::optional<UpstreamUrl> parse_upstream_url(std::string_view text, std::string& why) {
  UpstreamUrl url;
  auto scheme_end = text.find("://");
  std::string scheme(text.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "http") {
    url.tls = false;
    url.port = 80;
  } else if (scheme == "https") {
    url.tls = true;
    url.port = 443;
  } else {
    why = "scheme must be http:// or https://";
    return std::nullopt;
  }
  auto rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    why = "query and fragment are not allowed";
    return std::nullopt;
  }
  if (std::any_of(rest.begin(), rest.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; })) {
    why = "whitespace is not allowed";
    return std::nullopt;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    why = "credentials are not allowed in the URL; use api_key_env";
    return std::nullopt;
  }
  auto parts = split_host_port(authority);
  if (!parts || parts->host.empty()) {
    why = "missing host";
    return std::nullopt;
  }
  if (parts->bracketed ? !is_ipv6(parts->host) : !is_hostname(parts->host)) {
    why = "invalid host";
    return std::nullopt;
  }
  if (parts->port) {
    auto port = parse_port(*parts->port);
    if (!port || *port == 0) {
      why = "port must be a number from 1 to 65535";
      return std::nullopt;
    }
    url.port = static_cast<std::uint16_t>(*port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.host = parts->host;
  url.base_path = std::string(path);
  return url;
}

bool is_valid_origin(std::string_view text, std::string& why) {
  if (text == "*" || text == "null") return true;
  why = "expected \"*\", \"null\" or scheme://host[:port] without a path";
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  auto scheme = text.substr(0, scheme_end);
  bool scheme_ok =
      std::isalpha(static_cast<unsigned char>(scheme.front())) != 0 &&
      std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
      });
  auto authority = text.substr(scheme_end + 3);
  if (!scheme_ok || authority.find_first_of("/?#@") != std::string_view::npos) return false;
  auto parts = split_host_port(authority);
  if (!parts || (parts->bracketed ? !is_ipv6(parts->host) : !is_hostname(parts->host))) {
    return false;
  }
  if (parts->port) {
    auto port = parse_port(*parts->port);
    if (!port || *port == 0) return false;
  }
  // Browsers send the origin lowercased; an uppercase entry would never match.
  if (has_upper(text)) {
    why = "scheme and host must be lowercase, as browsers send them";
    return false;
  }
  why.clear();
  return true;
}

}  // namespace gw::config
