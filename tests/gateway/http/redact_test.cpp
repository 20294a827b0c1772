#include "gateway/http/redact.hpp"

#include <gtest/gtest.h>

namespace gw::http {
namespace {

TEST(SecretRedactor, ReplacesEveryOccurrenceOfEverySecret) {
  SecretRedactor r({"sk-upstream-1234", "client-key-5678"});
  EXPECT_EQ(r.apply("Bearer sk-upstream-1234 and sk-upstream-1234; client-key-5678!"),
            "Bearer [redacted] and [redacted]; [redacted]!");
  EXPECT_EQ(r.apply("nothing here"), "nothing here");
  EXPECT_TRUE(r.holds_secret("x sk-upstream-1234"));
  EXPECT_FALSE(r.holds_secret("sk-upstream-123"));
}

TEST(SecretRedactor, LongerSecretContainingAShorterOneIsRedactedWhole) {
  SecretRedactor r({"abcdefgh", "abcdefgh-longer-key"});
  EXPECT_EQ(r.apply("key=abcdefgh-longer-key."), "key=[redacted].");
}

TEST(SecretRedactor, ShortAndEmptySecretsAreIgnored) {
  SecretRedactor r({"", "abc", "1234567"});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.apply("abc 1234567"), "abc 1234567");
}

TEST(SecretRedactor, MarkerContainingASecretDoesNotLoop) {
  SecretRedactor r({"redacted]"});  // 9 chars, part of the marker itself
  EXPECT_EQ(r.apply("a redacted] b"), "a [redacted] b");
}

TEST(SecretRedactor, EveryErrorField) {
  SecretRedactor r({"sk-upstream-1234"});
  OpenAiError e{401, "Incorrect API key: sk-upstream-1234", "sk-upstream-1234", "sk-upstream-1234",
                "sk-upstream-1234"};
  r.apply(e);
  EXPECT_EQ(e.message, "Incorrect API key: [redacted]");
  EXPECT_EQ(e.type, "[redacted]");
  EXPECT_EQ(e.param, "[redacted]");
  EXPECT_EQ(e.code, "[redacted]");
}

}  // namespace
}  // namespace gw::http
