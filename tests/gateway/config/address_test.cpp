#include "gateway/config/address.hpp"

#include <gtest/gtest.h>

namespace gw::config {
namespace {

TEST(ParseListenAddress, AcceptsIpv4Ipv6AndLocalhost) {
  std::string why;
  auto v4 = parse_listen_address("0.0.0.0:8080", why);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = parse_listen_address("[::1]:0", why);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto local = parse_listen_address("localhost:65535", why);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "localhost");
  EXPECT_EQ(local->port, 65535);
}

TEST(ParseListenAddress, RejectsWithReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"127.0.0.1", "expected HOST:PORT, e.g. 127.0.0.1:8080"},
      {"", "expected HOST:PORT, e.g. 127.0.0.1:8080"},
      {"[::1", "expected HOST:PORT, e.g. 127.0.0.1:8080"},
      {"[::1]", "expected HOST:PORT, e.g. 127.0.0.1:8080"},
      {"example.com:80", "host must be an IPv4 address, [IPv6 address] or localhost"},
      {"::1:80", "host must be an IPv4 address, [IPv6 address] or localhost"},
      {":80", "host must be an IPv4 address, [IPv6 address] or localhost"},
      {"256.0.0.1:80", "host must be an IPv4 address, [IPv6 address] or localhost"},
      {"[127.0.0.1]:80", "host must be an IPv4 address, [IPv6 address] or localhost"},
      {"127.0.0.1:65536", "port must be a number from 0 to 65535"},
      {"127.0.0.1:", "port must be a number from 0 to 65535"},
      {"127.0.0.1:-1", "port must be a number from 0 to 65535"},
      {"127.0.0.1:80x", "port must be a number from 0 to 65535"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(parse_listen_address(c.text, why)) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
}

TEST(ParseUpstreamUrl, SplitsAndDefaultsPorts) {
  std::string why;
  auto plain = parse_upstream_url("http://127.0.0.1:5273/v1", why);
  ASSERT_TRUE(plain) << why;
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 5273);
  EXPECT_EQ(plain->base_path, "/v1");

  auto tls = parse_upstream_url("HTTPS://api.example.com/openai/v1//", why);
  ASSERT_TRUE(tls) << why;
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "api.example.com");
  EXPECT_EQ(tls->port, 443);
  EXPECT_EQ(tls->base_path, "/openai/v1");

  auto bare = parse_upstream_url("http://ollama", why);
  ASSERT_TRUE(bare) << why;
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->base_path, "");

  auto v6 = parse_upstream_url("http://[::1]:8000/", why);
  ASSERT_TRUE(v6) << why;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8000);
  EXPECT_EQ(v6->base_path, "");
}

TEST(ParseUpstreamUrl, RejectsWithReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"127.0.0.1:5273/v1", "scheme must be http:// or https://"},
      {"ftp://host/v1", "scheme must be http:// or https://"},
      {"http:///v1", "missing host"},
      {"http://:80/v1", "missing host"},
      {"http://bad host/v1", "whitespace is not allowed"},
      {"http://ho$t/v1", "invalid host"},
      {"http://[nope]/v1", "invalid host"},
      {"http://host:0/v1", "port must be a number from 1 to 65535"},
      {"http://host:99999/v1", "port must be a number from 1 to 65535"},
      {"http://host:/v1", "port must be a number from 1 to 65535"},
      {"http://user:secret@host/v1", "credentials are not allowed in the URL; use api_key_env"},
      {"http://host/v1?key=1", "query and fragment are not allowed"},
      {"http://host/v1#x", "query and fragment are not allowed"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(parse_upstream_url(c.text, why)) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
}

TEST(IsValidOrigin, AcceptsWhatBrowsersSend) {
  for (const char* origin :
       {"*", "null", "http://localhost:3000", "https://app.example.com", "http://[::1]:8080",
        "chrome-extension://abcdef", "tauri://localhost"}) {
    std::string why;
    EXPECT_TRUE(is_valid_origin(origin, why)) << origin << ": " << why;
  }
}

TEST(IsValidOrigin, RejectsPathsAndUppercase) {
  const std::string shape = "expected \"*\", \"null\" or scheme://host[:port] without a path";
  const std::string lower = "scheme and host must be lowercase, as browsers send them";
  struct Case {
    const char* text;
    std::string why;
  };
  const Case cases[] = {
      {"https://app.example.com/", shape},
      {"https://app.example.com/x", shape},
      {"app.example.com", shape},
      {"://x", shape},
      {"https://", shape},
      {"http://h:0", shape},
      {"http://u@h", shape},
      {"", shape},
      {"**", shape},
      {"https://App.example.com", lower},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(is_valid_origin(c.text, why)) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
}

}  // namespace
}  // namespace gw::config
