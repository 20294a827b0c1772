// RequestBody: the body Beast's parser hands over piece by piece arrives whole and in order,
// sized-bodies leave simdjson's padding past their end, and chunked ones (no length known) are
// assembled all the same.

#include "gateway/exchange/request_body.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <string>

namespace gw {
namespace {

namespace bhttp = boost::beast::http;

// Feeds `wire` to a request parser `piece` bytes at a time, as reads of that size would.
std::string body_of(const std::string& wire, std::size_t piece, std::size_t* capacity = nullptr) {
  bhttp::request_parser<RequestBody> parser;
  parser.eager(true);
  std::size_t at = 0;
  while (!parser.is_done() && at < wire.size()) {
    boost::system::error_code ec;
    const std::size_t n = std::min(piece, wire.size() - at);
    const std::size_t used = parser.put(boost::asio::buffer(wire.data() + at, n), ec);
    if (ec == bhttp::error::need_more) {
      // The parser wants the piece together with the next one: hand it more at once.
      piece += piece;
      continue;
    }
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return {};
    at += used;
  }
  EXPECT_TRUE(parser.is_done());
  if (capacity) *capacity = parser.get().body().capacity();
  return parser.get().body();
}

TEST(RequestBody, ASizedBodyArrivesWholeWithPaddingLeftPastItsEnd) {
  std::string body;
  for (int i = 0; i < 3000; ++i) body += static_cast<char>('a' + i % 26);
  const std::string wire = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
  for (std::size_t piece : {1u, 7u, 512u, 100000u}) {
    std::size_t capacity = 0;
    EXPECT_EQ(body_of(wire, piece, &capacity), body) << piece;
    // simdjson reads the body in place only with this much room past its end.
    EXPECT_GE(capacity, body.size() + http::kJsonReadPaddingBytes) << piece;
  }
}

TEST(RequestBody, AChunkedBodyIsAssembledInOrder) {
  const std::string wire =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"a\":\r\n3\r\n[1,\r\n4\r\n2]}\n\r\n0\r\n\r\n";
  for (std::size_t piece : {1u, 5u, 1000u}) {
    EXPECT_EQ(body_of(wire, piece), "{\"a\":[1,2]}\n") << piece;
  }
}

TEST(RequestBody, AnEmptyBodyIsEmpty) {
  EXPECT_EQ(body_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 64), "");
}

}  // namespace
}  // namespace gw
