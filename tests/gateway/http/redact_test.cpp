#include "gateway/http/redact.hpp"

#include <gtest/gtest.h>

#include "gateway/trace/request_trace.hpp"

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

// A key straddling the cut is redacted first: none of its bytes is left before the cut.
TEST(SecretRedactor, CutsOnlyAfterRedacting) {
  SecretRedactor r({"client-key-5678"});
  EXPECT_EQ(r.cut("abc client-key-5678 def", 6), "abc [r");
  EXPECT_EQ(r.cut("abc client-key-5678 def", 100), "abc [redacted] def");
  EXPECT_EQ(r.cut("no key in this text", 5), "no ke");
}

TEST(RedactLogFields, EveryLoggedTextTheDecisionLogsToo) {
  SecretRedactor r({"client-key-5678"});
  RequestTrace t;
  t.path = "/v1/chat/completions?key=client-key-5678";
  t.error = "client-key-5678";
  t.prompt = "say client-key-5678";
  t.decision.prompt_text = "user: client-key-5678";
  t.decision.draft_text = "your key is client-key-5678";
  redact_log_fields(r, t);
  EXPECT_EQ(t.path, "/v1/chat/completions?key=[redacted]");
  EXPECT_EQ(t.error, "[redacted]");
  EXPECT_EQ(t.prompt, "say [redacted]");
  EXPECT_EQ(t.decision.prompt_text, "user: [redacted]");
  EXPECT_EQ(t.decision.draft_text, "your key is [redacted]");
}

}  // namespace
}  // namespace gw::http
