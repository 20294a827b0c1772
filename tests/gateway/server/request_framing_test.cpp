#include "gateway/server/request_framing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gw {
namespace {

std::optional<FramingProblem> te(std::vector<std::string_view> values, unsigned version = 11) {
  return check_transfer_encoding(values, version);
}

TEST(TransferEncoding, NoneOrExactlyChunkedIsAccepted) {
  EXPECT_FALSE(te({}));
  EXPECT_FALSE(te({"chunked"}));
  EXPECT_FALSE(te({"Chunked"}));
  EXPECT_FALSE(te({" chunked\t"}));
}

TEST(TransferEncoding, UnknownCodingsAre501) {
  for (std::string_view v : {"identity", "xchunked", "chunked, identity", "identity, chunked",
                             "gzip, chunked", "chunked;ext=1", "chunked,", ",chunked", ""}) {
    auto p = te({v});
    ASSERT_TRUE(p) << v;
    EXPECT_EQ(p->status, 501u) << v;
    EXPECT_EQ(p->code, "unsupported_transfer_coding");
  }
}

TEST(TransferEncoding, SeveralFieldLinesAreOneList) {
  auto p = te({"chunked", "identity"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 501u);
  auto twice = te({"chunked", "chunked"});
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400u);
}

TEST(TransferEncoding, ChunkedTwiceIs400) {
  auto p = te({"chunked, chunked"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 400u);
}

TEST(TransferEncoding, AnyInHttp10Is400) {
  auto p = te({"chunked"}, 10);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 400u);
  EXPECT_FALSE(te({}, 10));
}

TEST(Host, ExactlyOneInHttp11) {
  EXPECT_FALSE(check_host(1, 11));
  ASSERT_TRUE(check_host(0, 11));
  EXPECT_EQ(check_host(0, 11)->status, 400u);
  ASSERT_TRUE(check_host(2, 11));
  EXPECT_EQ(check_host(2, 11)->status, 400u);
}

TEST(Host, AtMostOneInHttp10) {
  EXPECT_FALSE(check_host(0, 10));
  EXPECT_FALSE(check_host(1, 10));
  EXPECT_TRUE(check_host(2, 10));
}

}  // namespace
}  // namespace gw
