#include "gateway/http/path_segment.hpp"

#include <gtest/gtest.h>

namespace gw::http {
namespace {

TEST(DecodePathSegment, RawAndEncodedIds) {
  EXPECT_EQ(decode_path_segment("phi-4-mini"), "phi-4-mini");
  EXPECT_EQ(decode_path_segment("phi4-mini:latest"), "phi4-mini:latest");
  EXPECT_EQ(decode_path_segment("phi4-mini%3Alatest"), "phi4-mini:latest");
  EXPECT_EQ(decode_path_segment("phi4-mini%3alatest"), "phi4-mini:latest");
  EXPECT_EQ(decode_path_segment("org%2Fmodel"), "org/model");
  EXPECT_EQ(decode_path_segment("a+b"), "a+b");  // '+' is a plus in a path, not a space
  EXPECT_EQ(decode_path_segment(""), "");
}

TEST(DecodePathSegment, MalformedEscapesAndControls) {
  for (const char* bad : {"%", "a%4", "%zz", "%4g", "a%00b", "%0A", "%7f", "tab\there"}) {
    EXPECT_EQ(decode_path_segment(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace gw::http
