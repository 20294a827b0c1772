#include "gateway/completion/whole_completion.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::chat {
namespace {

using nlohmann::json;

const char* kAnswer = R"({"id":"c1","object":"chat.completion","model":"phi-up",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Paris \u00e9","extra":[1,{"a":2}]},
    "finish_reason":"length","logprobs":{"content":[
      {"token":"Paris","logprob":-0.25,"top_logprobs":[{"token":"Paris","logprob":-0.25},
                                                       {"token":"Lyon","logprob":-2.5}]},
      {"token":" \u00e9","logprob":-1,"top_logprobs":[]},
      {"token":"x","logprob":-3.5e-1}]}},
   {"index":1,"message":{"role":"assistant","content":"second"},"finish_reason":"stop",
    "logprobs":{"content":[{"logprob":-9}]}}],
  "usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"details":{"cached":1}},
  "system_fingerprint":null})";

TEST(ReadCompletionFacts, ReadsWhatTheDomReaderReads) {
  auto facts = read_completion_facts(kAnswer);
  ASSERT_TRUE(facts);
  auto dom = read_completion(json::parse(kAnswer));
  ASSERT_TRUE(dom);
  EXPECT_EQ(facts->draft.text, dom->text);
  EXPECT_EQ(facts->draft.text, "Paris \xc3\xa9");
  EXPECT_EQ(facts->draft.finish_reason, "length");
  EXPECT_EQ(facts->draft.logprobs, dom->logprobs);
  EXPECT_EQ(facts->draft.logprobs, (std::vector<double>{-0.25, -1, -0.35}));
  EXPECT_EQ(facts->draft.tokens, 3u);
  EXPECT_TRUE(facts->usage.present);
  EXPECT_EQ(facts->usage.prompt_tokens, 7u);
  EXPECT_EQ(facts->usage.completion_tokens, 3u);
}

TEST(ReadCompletionFacts, ToolCallsAndRefusal) {
  auto facts = read_completion_facts(
      R"({"choices":[{"message":{"content":null,"refusal":"I can't",
          "tool_calls":[{"id":"t","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}}]},
          "finish_reason":"tool_calls"}]})");
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->draft.text, "I can't");
  ASSERT_EQ(facts->draft.tool_calls.calls.size(), 1u);
  EXPECT_EQ(facts->draft.tool_calls.calls[0].name, "get");
  EXPECT_EQ(facts->draft.tool_calls.calls[0].arguments, R"({"a":1})");
  EXPECT_FALSE(facts->usage.present);
}

TEST(ReadCompletionFacts, NotACompletion) {
  EXPECT_FALSE(read_completion_facts(""));
  EXPECT_FALSE(read_completion_facts("<html>"));
  EXPECT_FALSE(read_completion_facts(R"({"choices":[]})"));
  EXPECT_FALSE(read_completion_facts(R"({"choices":[{"text":"legacy"}]})"));
  EXPECT_FALSE(read_completion_facts(R"({"choices":[{"message":"str"}]})"));
  EXPECT_FALSE(read_completion_facts(R"({"choices":[{"message":{}}]} x)"));
  EXPECT_FALSE(read_completion_facts("[1,2]"));
}

TEST(ReadCompletionFacts, NestingIsBoundedWithoutRecursion) {
  const int kDepth = 200000;
  std::string deep = R"({"junk":)" + std::string(kDepth, '[') + std::string(kDepth, ']') +
                     R"(,"choices":[{"message":{"content":"x"}}]})";
  EXPECT_FALSE(read_completion_facts(deep));
  std::string shallow = R"({"junk":)" + std::string(40, '[') + std::string(40, ']') +
                        R"(,"choices":[{"message":{"content":"x"}}]})";
  EXPECT_TRUE(read_completion_facts(shallow));
}

// Issue 9: a draft of many small values (a logprob per token) is read without a tree.
TEST(ReadCompletionFacts, HugeLogprobListIsReadAsNumbers) {
  const int kTokens = 300000;
  std::string body = R"({"choices":[{"message":{"content":"t"},"logprobs":{"content":[)";
  for (int i = 0; i < kTokens; ++i) {
    body += i ? "," : "";
    body +=
        R"({"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[{"token":"a","logprob":-0.5}]})";
  }
  body += "]}}]}";
  auto facts = read_completion_facts(body);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->draft.logprobs.size(), static_cast<std::size_t>(kTokens));
}

json rewritten(std::string_view body, const CompletionEdits& e) {
  auto out = rewrite_completion(body, e);
  EXPECT_TRUE(out);
  return json::parse(out.value_or("null"));
}

TEST(RewriteCompletion, NoEditsKeepsEveryValue) {
  EXPECT_EQ(rewritten(kAnswer, {}), json::parse(kAnswer));
  auto out = rewrite_completion(R"({"n":1.50e+2,"i":-3,"u":18446744073709551615})", {});
  EXPECT_EQ(*out, R"({"n":1.50e+2,"i":-3,"u":18446744073709551615})");  // digits as sent
}

TEST(RewriteCompletion, ModelLogprobsAndUsage) {
  CompletionEdits e;
  e.model = "phi-4-mini";
  e.strip_logprobs = true;
  e.usage = Usage{17, 13, true};
  json expected = json::parse(kAnswer);
  expected["model"] = "phi-4-mini";
  for (auto& c : expected["choices"]) c["logprobs"] = nullptr;
  expected["usage"]["prompt_tokens"] = 17;
  expected["usage"]["completion_tokens"] = 13;
  expected["usage"]["total_tokens"] = 30;
  EXPECT_EQ(rewritten(kAnswer, e), expected);
}

TEST(RewriteCompletion, UsageAddedWhenAbsentOrNotAnObject) {
  CompletionEdits e;
  e.usage = Usage{1, 2, true};
  json usage = {{"prompt_tokens", 1}, {"completion_tokens", 2}, {"total_tokens", 3}};
  EXPECT_EQ(rewritten(R"({"choices":[]})", e),
            json({{"choices", json::array()}, {"usage", usage}}));
  EXPECT_EQ(rewritten(R"({})", e), json({{"usage", usage}}));
  EXPECT_EQ(rewritten(R"({"usage":null,"a":1})", e), json({{"usage", usage}, {"a", 1}}));
  EXPECT_EQ(rewritten(R"({"usage":[1,[2]],"a":1})", e), json({{"usage", usage}, {"a", 1}}));
  EXPECT_EQ(rewritten(R"({"usage":{"total_tokens":9}})", e), json({{"usage", usage}}));
}

TEST(RewriteCompletion, TopLogprobsCutToWhatTheClientAskedFor) {
  CompletionEdits e;
  e.keep_top_logprobs = 1;
  json expected = json::parse(kAnswer);
  auto& entries = expected["choices"][0]["logprobs"]["content"];
  entries[0]["top_logprobs"].erase(1);
  EXPECT_EQ(rewritten(kAnswer, e), expected);
  e.keep_top_logprobs = 0;
  entries[0]["top_logprobs"] = json::array();
  EXPECT_EQ(rewritten(kAnswer, e), expected);
  // Elsewhere an array named top_logprobs is not touched.
  EXPECT_EQ(*rewrite_completion(R"({"top_logprobs":[1,2,3]})", e), R"({"top_logprobs":[1,2,3]})");
}

TEST(RewriteCompletion, RefusesWhatIsNotJsonOrTooDeep) {
  EXPECT_FALSE(rewrite_completion("{", {}));
  EXPECT_FALSE(rewrite_completion(std::string(100, '[') + std::string(100, ']'), {}));
}

// Answers up to 1 MiB are validated by simdjson and fed to the reader; larger ones (here: the
// same answer with trailing white space) go through nlohmann's SAX parser. Both must read the
// same facts and make the same edits, edge cases included.
const char* kEdgeAnswers[] = {
    kAnswer,
    R"({"choices":[{"message":{"content":"a","content":"b"},"finish_reason":"stop"}]})",
    R"({"choices":[{"message":{"content":"a"}}],"choices":[{"message":{"content":"c"}}]})",
    R"({"usage":{"prompt_tokens":1},"choices":[{"message":{"content":"a"}}],"usage":{"completion_tokens":2}})",
    R"({"usage":{"prompt_tokens":-3,"completion_tokens":4.0,"total_tokens":-0},"choices":[{"message":{"content":"a"}}]})",
    R"({"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":9223372036854775807},"choices":[{"message":{"content":"\ud83d\ude00 \u00e9\n"}}]})",
    R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"x\":[1,-2,3.5e2,true,null]}"}}]},"finish_reason":"tool_calls"}]})",
    R"({"choices":[{"message":{"content":"x","function_call":{"name":"g","arguments":"{}"}}}]})",
    R"({"choices":[{"message":{"refusal":"no"},"logprobs":{"content":[{"token":"a","logprob":-0.5,"top_logprobs":[{"logprob":-0.5},{"logprob":-1.75}]},{"logprob":-2},{"logprob":"x"}]}}]})",
    R"({"\u006dodel":"m","choices":[{"message":{"content":"esc"}}],"model":"up"})",
    R"({"model":"a","model":"b","choices":[{"message":{"content":"twice"}}]})",
    R"({"choices":{"message":{"content":"not an array"}}})",
    R"({"choices":[{"message":{"content":"a"}}]} x)",
    R"([{"choices":[]}])",
    "\xef\xbb\xbf{\"choices\":[{\"message\":{\"content\":\"bom\"}}]}",
    R"({"choices":[{"message":{"content":"big"}}],"n":123456789012345678901234567890})",
    R"({"choices":[{"message":{"content":"ctl\u0001"}}],"bad":"\ud800"})",
    "{\"choices\":[{\"message\":{\"content\":\"raw \x01\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\xc3\x28\"}}]}",
};

std::string padded(std::string_view body) {
  return std::string(body) + std::string(1 << 20, ' ');
}

TEST(ReadCompletionFacts, SimdjsonPathReadsWhatTheSaxPathReads) {
  for (const char* body : kEdgeAnswers) {
    SCOPED_TRACE(body);
    auto fast = read_completion_facts(body);
    auto sax = read_completion_facts(padded(body));
    ASSERT_EQ(fast.has_value(), sax.has_value());
    if (!fast) continue;
    EXPECT_EQ(fast->draft.text, sax->draft.text);
    EXPECT_EQ(fast->draft.finish_reason, sax->draft.finish_reason);
    EXPECT_EQ(fast->draft.logprobs, sax->draft.logprobs);
    EXPECT_EQ(fast->draft.first_margin, sax->draft.first_margin);
    EXPECT_EQ(fast->draft.tokens, sax->draft.tokens);
    ASSERT_EQ(fast->draft.tool_calls.calls.size(), sax->draft.tool_calls.calls.size());
    for (std::size_t i = 0; i < fast->draft.tool_calls.calls.size(); ++i) {
      EXPECT_EQ(fast->draft.tool_calls.calls[i].name, sax->draft.tool_calls.calls[i].name);
      EXPECT_EQ(fast->draft.tool_calls.calls[i].arguments,
                sax->draft.tool_calls.calls[i].arguments);
    }
    EXPECT_EQ(fast->usage.present, sax->usage.present);
    EXPECT_EQ(fast->usage.prompt_tokens, sax->usage.prompt_tokens);
    EXPECT_EQ(fast->usage.completion_tokens, sax->usage.completion_tokens);
  }
}

// The model-only edit is a splice on the fast path: the same document as the SAX rewrite, and
// every other byte as the upstream sent it.
TEST(RewriteCompletion, ModelSplicedAsTheSaxRewriterWouldSetIt) {
  CompletionEdits e;
  e.model = "phi-4-mini";
  for (const char* body : kEdgeAnswers) {
    SCOPED_TRACE(body);
    auto fast = rewrite_completion(body, e);
    auto sax = rewrite_completion(padded(body), e);
    ASSERT_EQ(fast.has_value(), sax.has_value());
    if (!fast) continue;
    EXPECT_EQ(json::parse(*fast), json::parse(*sax));
  }
  const std::string spaced = R"({ "id" : "c", "model" : "up" , "x":1.50e+2 })";
  EXPECT_EQ(*rewrite_completion(spaced, e),
            R"({ "id" : "c", "model":"phi-4-mini" , "x":1.50e+2 })");
}

}  // namespace
}  // namespace gw::chat
