#include <gtest/gtest.h>

#include <stdexcept>

#include "gateway/sim/simulator.hpp"

namespace gw::sim {
namespace {

TEST(ParseProfile, NameOnlyKeepsDefaults) {
  const ModelProfile p = parse_profile("phi-4-mini");
  EXPECT_EQ(p.name, "phi-4-mini");
  EXPECT_EQ(p.ttft_ms, 0u);
  EXPECT_EQ(p.answer_tokens, 60u);
  EXPECT_DOUBLE_EQ(p.logprob, -0.2);
}

TEST(ParseProfile, AllKeysAndTextWithCommas) {
  const ModelProfile p =
      parse_profile("gpt:ttft_ms=50,tokens_per_s=200.5,answer_tokens=40,logprob=-0.3,text=a, b c");
  EXPECT_EQ(p.name, "gpt");
  EXPECT_EQ(p.ttft_ms, 50u);
  EXPECT_DOUBLE_EQ(p.tokens_per_s, 200.5);
  EXPECT_EQ(p.answer_tokens, 40u);
  EXPECT_DOUBLE_EQ(p.logprob, -0.3);
  EXPECT_EQ(p.text, "a, b c");
}

void expect_rejected(const char* spec, const char* fragment) {
  try {
    parse_profile(spec);
    ADD_FAILURE() << spec << " was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ParseProfile, RejectsBadSpecsWithClearMessages) {
  expect_rejected("", "missing model name");
  expect_rejected(":ttft_ms=1", "missing model name");
  expect_rejected("m:speed=3", "unknown key \"speed\"");
  expect_rejected("m:ttft_ms=abc", "ttft_ms must be a number");
  expect_rejected("m:ttft_ms=-5", "ttft_ms must be a number");
  expect_rejected("m:tokens_per_s=-1", "tokens_per_s must be >= 0");
  expect_rejected("m:logprob=0.5", "logprob must be <= 0");
  expect_rejected("m:ttft_ms", "expected key=value");
  expect_rejected("bad name", "must not contain");
}

}  // namespace
}  // namespace gw::sim
