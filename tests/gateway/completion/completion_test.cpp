#include "gateway/completion/completion.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::chat {
namespace {

using nlohmann::json;

// ---- whole completions ----

TEST(ReadCompletion, ReadsTextFinishReasonAndLogprobs) {
  auto body = json::parse(R"({"id":"c1","object":"chat.completion","model":"m","choices":[{
      "index":0,"message":{"role":"assistant","content":"Hello there"},
      "logprobs":{"content":[{"token":"Hello","logprob":-0.25},{"token":" there","logprob":-1.5}]},
      "finish_reason":"stop"}]})");
  auto d = read_completion(body);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "Hello there");
  EXPECT_EQ(d->finish_reason, "stop");
  EXPECT_EQ(d->logprobs, (std::vector<double>{-0.25, -1.5}));
  EXPECT_EQ(d->tokens, 2u);
}

TEST(ReadCompletion, NullContentAndNoLogprobs) {
  auto d = read_completion(json::parse(
      R"({"choices":[{"message":{"role":"assistant","content":null},"logprobs":null,"finish_reason":"length"}]})"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "");
  EXPECT_EQ(d->finish_reason, "length");
  EXPECT_TRUE(d->logprobs.empty());
  EXPECT_EQ(d->tokens, 0u);
}

TEST(ReadCompletion, SkipsMalformedLogprobEntries) {
  auto d = read_completion(json::parse(R"({"choices":[{"message":{"content":"x"},
      "logprobs":{"content":[{"logprob":-1},"junk",{"token":"t"},{"logprob":"-2"},{"logprob":-3}]}}]})"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->logprobs, (std::vector<double>{-1, -3}));
}

TEST(ReadCompletion, NoUsableChoiceIsNullopt) {
  for (const char* body :
       {R"({})", R"({"choices":[]})", R"({"choices":null})", R"({"choices":{"message":{}}})",
        R"({"choices":["x"]})", R"({"choices":[{"finish_reason":"stop"}]})",
        R"({"choices":[{"message":"hi"}]})", R"([1])", R"("s")"}) {
    EXPECT_FALSE(read_completion(json::parse(body))) << body;
  }
}

TEST(ReadUsage, ReadsCounts) {
  auto u = read_usage(
      json::parse(R"({"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})"));
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 12u);
  EXPECT_EQ(u.completion_tokens, 34u);
}

TEST(ReadUsage, AbsentNullOrBadUsage) {
  EXPECT_FALSE(read_usage(json::parse(R"({})")).present);
  EXPECT_FALSE(read_usage(json::parse(R"({"usage":null})")).present);
  EXPECT_FALSE(read_usage(json::parse(R"([])")).present);
  auto u = read_usage(json::parse(R"({"usage":{"prompt_tokens":-1,"completion_tokens":"3"}})"));
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 0u);
  EXPECT_EQ(u.completion_tokens, 0u);
}

TEST(AddUsage, SumsIntoExistingUsage) {
  auto body = json::parse(
      R"({"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"extra":1}})");
  add_usage(body, Usage{3, 7, true});
  EXPECT_EQ(body["usage"]["prompt_tokens"], 13);
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  EXPECT_EQ(body["usage"]["total_tokens"], 25);
  EXPECT_EQ(body["usage"]["extra"], 1);  // other members kept
}

TEST(AddUsage, CreatesUsageWhenAbsentOrNull) {
  for (const char* src : {R"({"id":"x"})", R"({"id":"x","usage":null})"}) {
    auto body = json::parse(src);
    add_usage(body, Usage{4, 6, true});
    EXPECT_EQ(body["usage"],
              json::parse(R"({"prompt_tokens":4,"completion_tokens":6,"total_tokens":10})"))
        << src;
    EXPECT_EQ(body["id"], "x");
  }
}

TEST(StripLogprobs, NullsEveryChoicesLogprobs) {
  auto body = json::parse(R"({"choices":[
      {"index":0,"message":{"content":"a"},"logprobs":{"content":[{"logprob":-1}]}},
      {"index":1,"message":{"content":"b"},"logprobs":{"content":[]}},
      {"index":2,"message":{"content":"c"}}]})");
  strip_logprobs(body);
  EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
  EXPECT_TRUE(body["choices"][1]["logprobs"].is_null());
  EXPECT_FALSE(body["choices"][2].contains("logprobs"));  // not added where absent
  EXPECT_EQ(body["choices"][0]["message"]["content"], "a");
}

TEST(StripLogprobs, NoChoicesIsNoOp) {
  auto body = json::parse(R"({"id":"x"})");
  strip_logprobs(body);
  EXPECT_EQ(body, json::parse(R"({"id":"x"})"));
}

// ---- stream chunks ----

TEST(ReadChunk, ContentChunk) {
  auto c = read_chunk(
      R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->has_choices);
  EXPECT_EQ(c->content, "Hi");
  EXPECT_EQ(c->finish_reason, "");
  EXPECT_FALSE(c->usage.present);
}

TEST(ReadChunk, FinishChunk) {
  auto c = read_chunk(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->content, "");
  EXPECT_EQ(c->finish_reason, "length");
}

TEST(ReadChunk, Logprobs) {
  auto c = read_chunk(
      R"({"choices":[{"delta":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-0.5}]}}]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->logprobs, std::vector<double>{-0.5});
}

TEST(ReadChunk, UsageChunkWithEmptyChoices) {
  auto c = read_chunk(
      R"({"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":21,"total_tokens":30}})");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_choices);
  EXPECT_TRUE(c->usage.present);
  EXPECT_EQ(c->usage.prompt_tokens, 9u);
  EXPECT_EQ(c->usage.completion_tokens, 21u);
  EXPECT_EQ(c->content, "");
}

TEST(ReadChunk, NotAnObjectIsNullopt) {
  for (const char* data : {"[DONE]", "", "not json", "[]", "42", "\"s\"", "{\"a\":"}) {
    EXPECT_FALSE(read_chunk(data)) << data;
  }
}

TEST(Accumulate, CountsOnlyContentBearingChunks) {
  const char* stream[] = {
      R"({"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
      R"({"choices":[{"delta":{"content":"Hel"},"logprobs":{"content":[{"logprob":-0.1}]}}]})",
      R"({"choices":[{"delta":{"content":"lo"},"logprobs":{"content":[{"logprob":-0.2}]}}]})",
      R"({"choices":[{"delta":{},"finish_reason":"stop"}]})",
      R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})",
  };
  DraftText d;
  for (const char* data : stream) {
    auto c = read_chunk(data);
    ASSERT_TRUE(c) << data;
    accumulate(d, *c);
  }
  EXPECT_EQ(d.text, "Hello");
  EXPECT_EQ(d.tokens, 2u);
  EXPECT_EQ(d.finish_reason, "stop");
  EXPECT_EQ(d.logprobs, (std::vector<double>{-0.1, -0.2}));
}

TEST(Accumulate, LaterEmptyFinishReasonDoesNotClearIt) {
  DraftText d;
  accumulate(d, *read_chunk(R"({"choices":[{"delta":{},"finish_reason":"length"}]})"));
  accumulate(d, *read_chunk(R"({"choices":[],"usage":{"prompt_tokens":1}})"));
  EXPECT_EQ(d.finish_reason, "length");
}

// ---- edit_chunk ----

constexpr const char* kContent =
    R"({"id":"c","model":"qwen2.5:0.5b","choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"logprob":-1}]},"finish_reason":null}]})";
constexpr const char* kUsageOnly =
    R"({"id":"c","model":"qwen2.5:0.5b","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})";
constexpr const char* kContentWithUsage =
    R"({"id":"c","model":"qwen2.5:0.5b","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})";

StreamEdits every_edit(std::string model) {
  StreamEdits e;
  e.model = std::move(model);
  e.strip_logprobs = true;
  e.drop_usage = true;
  return e;
}

TEST(EditChunk, NoEditsReturnsIdenticalBytes) {
  for (const char* data : {kContent, kUsageOnly, kContentWithUsage, "[DONE]", "junk {"}) {
    EXPECT_EQ(edit_chunk(data, StreamEdits{}), std::string(data));
  }
  // Whitespace and member order survive: no re-serialisation.
  std::string spaced = "{ \"b\" : 1,\n \"a\": 2 }";
  EXPECT_EQ(edit_chunk(spaced, StreamEdits{}), spaced);
}

TEST(EditChunk, DoneUntouchedWithEveryEdit) {
  StreamEdits all = every_edit("auto");
  EXPECT_EQ(edit_chunk("[DONE]", all), "[DONE]");
}

TEST(EditChunk, DropUsageDropsUsageOnlyChunk) {
  StreamEdits e;
  e.drop_usage = true;
  EXPECT_EQ(edit_chunk(kUsageOnly, e), std::nullopt);
  EXPECT_EQ(edit_chunk(R"({"usage":{"prompt_tokens":1}})", e), std::nullopt);  // no choices
}

TEST(EditChunk, DropUsageRemovesUsageFromChunkWithChoices) {
  StreamEdits e;
  e.drop_usage = true;
  auto out = edit_chunk(kContentWithUsage, e);
  ASSERT_TRUE(out);
  auto j = json::parse(*out);
  EXPECT_FALSE(j.contains("usage"));
  auto expected = json::parse(kContentWithUsage);
  expected.erase("usage");
  EXPECT_EQ(j, expected);
}

TEST(EditChunk, DropUsageLeavesChunksWithoutUsageAsTheyCame) {
  StreamEdits e;
  e.drop_usage = true;
  EXPECT_EQ(edit_chunk(kContent, e), std::string(kContent));
  // A null usage (some servers send one on every chunk) is kept: the chunk still carries content.
  auto out = edit_chunk(R"({"choices":[{"delta":{"content":"x"}}],"usage":null})", e);
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(*out)["choices"][0]["delta"]["content"], "x");
}

TEST(EditChunk, StripLogprobs) {
  StreamEdits e;
  e.strip_logprobs = true;
  auto out = edit_chunk(kContent, e);
  ASSERT_TRUE(out);
  auto j = json::parse(*out);
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(j["choices"][0]["delta"]["content"], "x");
  EXPECT_EQ(j["model"], "qwen2.5:0.5b");
}

TEST(EditChunk, ModelRewrite) {
  StreamEdits e;
  e.model = "small";
  auto out = edit_chunk(kContent, e);
  ASSERT_TRUE(out);
  auto j = json::parse(*out);
  EXPECT_EQ(j["model"], "small");
  auto expected = json::parse(kContent);
  expected["model"] = "small";
  EXPECT_EQ(j, expected);  // nothing else changed
}

TEST(EditChunk, ModelRewriteDoesNotAddModel) {
  StreamEdits e;
  e.model = "small";
  auto out = edit_chunk(R"({"choices":[{"delta":{"content":"x"}}]})", e);
  ASSERT_TRUE(out);
  EXPECT_FALSE(json::parse(*out).contains("model"));
}

TEST(EditChunk, AllEditsTogether) {
  StreamEdits e = every_edit("small");
  auto out = edit_chunk(kContentWithUsage, e);
  ASSERT_TRUE(out);
  auto j = json::parse(*out);
  EXPECT_EQ(j["model"], "small");
  EXPECT_FALSE(j.contains("usage"));
  EXPECT_EQ(edit_chunk(kUsageOnly, e), std::nullopt);
}

// An escalated stream's usage chunk covers the draft call too, as a non-streamed answer does.
TEST(EditChunk, AddUsageSumsEarlierCallsIntoTheUsageChunk) {
  StreamEdits e;
  e.add_usage = Usage{10, 20, true};
  auto out = edit_chunk(kUsageOnly, e);
  ASSERT_TRUE(out);
  auto usage = json::parse(*out)["usage"];
  EXPECT_EQ(usage["prompt_tokens"], 11);
  EXPECT_EQ(usage["completion_tokens"], 22);
  EXPECT_EQ(usage["total_tokens"], 33);
  std::string plain = R"({"choices":[{"delta":{"content":"hi"}}]})";
  EXPECT_EQ(edit_chunk(plain, e), plain);  // chunks without usage pass untouched
}

// An upstream's deeply nested chunk is neither parsed into a draft nor re-serialised (that
// recursion could exhaust the stack); it is relayed as it came.
TEST(EditChunk, DeeplyNestedChunkIsRelayedUnchangedAndNotADraft) {
  std::string deep = R"({"model":"m","x":)" + std::string(1000, '[') + std::string(1000, ']') + "}";
  EXPECT_FALSE(read_chunk(deep));
  EXPECT_EQ(edit_chunk(deep, every_edit("small")), deep);
}

TEST(EditChunk, NonJsonDataRelayedUnchanged) {
  StreamEdits e = every_edit("small");
  for (const char* data : {"hello", "{\"usage\": broken", "[\"logprobs\",\"usage\"]", ""}) {
    EXPECT_EQ(edit_chunk(data, e), std::string(data)) << data;
  }
}

TEST(EditChunk, NonAsciiSurvivesReserialisation) {
  StreamEdits e;
  e.model = "small";
  auto out =
      edit_chunk(R"({"model":"m","choices":[{"delta":{"content":"héllo 日本 \u00e9"}}]})", e);
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(*out)["choices"][0]["delta"]["content"], "héllo 日本 é");
}

// Issue 10 item 8: an event the edits leave alone arrives byte for byte (key order, spacing).
TEST(EditChunk, NullUsageWithDropUsageKeepsTheUpstreamBytes) {
  StreamEdits e;
  e.drop_usage = true;
  const std::string odd =
      R"({"choices":[{"delta":{"content":"x"} ,"index":0}],  "model":"m","id":"c","usage" : null})";
  EXPECT_EQ(edit_chunk(odd, e), odd);
}

TEST(EditChunk, LogprobsAlreadyNullKeepTheUpstreamBytes) {
  StreamEdits e;
  e.strip_logprobs = true;
  const std::string odd = R"({"z":1, "choices":[{"logprobs":null,"delta":{"content":"x"}}]})";
  EXPECT_EQ(edit_chunk(odd, e), odd);
  e.model = "m";  // the model already has the name asked for
  EXPECT_EQ(edit_chunk(R"({"model":"m", "choices":[{"logprobs":null}]})", e),
            R"({"model":"m", "choices":[{"logprobs":null}]})");
}

TEST(EditChunk, AnEditKeepsTheUpstreamKeyOrder) {
  StreamEdits e;
  e.model = "small";
  auto out = edit_chunk(R"({"zeta":1,"model":"m","alpha":{"y":1,"b":2}})", e);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, R"({"zeta":1,"model":"small","alpha":{"y":1,"b":2}})");
}

TEST(UsageIn, ResponsesApiInputOutputTokens) {
  auto u = usage_in(
      R"({"type":"response.completed","response":{"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":7,"total_tokens":12}}})");
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 5u);
  EXPECT_EQ(u.completion_tokens, 7u);
}

TEST(UsageIn, FindsUsage) {
  auto u = usage_in(kUsageOnly);
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 1u);
  EXPECT_EQ(u.completion_tokens, 2u);
}

TEST(UsageIn, NoUsage) {
  EXPECT_FALSE(usage_in(kContent).present);
  EXPECT_FALSE(usage_in("[DONE]").present);
  EXPECT_FALSE(usage_in(R"({"usage":null})").present);
  EXPECT_FALSE(usage_in(R"({"usage": not json)").present);
}

// usage_in reads the counts without a tree; a tree of the same usage object must agree.
TEST(UsageIn, CountsAsATreeReadsThem) {
  const char* usages[] = {
      R"({"prompt_tokens":3,"completion_tokens":4})",
      R"({"prompt_tokens":3,"prompt_tokens":9,"completion_tokens":4})",
      R"({"prompt_tokens":-3,"completion_tokens":4.0})",
      R"({"prompt_tokens":-0,"completion_tokens":18446744073709551615})",
      R"({"prompt_tokens":123456789012345678901234567890,"completion_tokens":1})",
      R"({"prompt_tokens":"3","completion_tokens":null,"details":{"prompt_tokens":8}})",
      R"({"input_tokens":5,"output_tokens":6,"input_tokens":7})",
      R"({"input_tokens":5,"output_tokens":6,"prompt_tokens":1})",
      R"({})",
  };
  for (const char* usage : usages) {
    SCOPED_TRACE(usage);
    const nlohmann::json tree = nlohmann::json::parse(usage);
    auto count = [&](const char* key) -> std::uint64_t {
      auto it = tree.find(key);
      return it != tree.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
    };
    const bool responses_api = !tree.contains("prompt_tokens") && tree.contains("input_tokens");
    const Usage u = usage_in(std::string(R"({"id":"x","usage":)") + usage + "}");
    EXPECT_TRUE(u.present);
    EXPECT_EQ(u.prompt_tokens, count(responses_api ? "input_tokens" : "prompt_tokens"));
    EXPECT_EQ(u.completion_tokens, count(responses_api ? "output_tokens" : "completion_tokens"));
  }
}

TEST(EstimateTokens, OnePerFourCharsRoundedUp) {
  EXPECT_EQ(estimate_tokens(0), 0u);
  EXPECT_EQ(estimate_tokens(1), 1u);
  EXPECT_EQ(estimate_tokens(3), 1u);
  EXPECT_EQ(estimate_tokens(4), 1u);
  EXPECT_EQ(estimate_tokens(5), 2u);
  EXPECT_EQ(estimate_tokens(8), 2u);
  EXPECT_EQ(estimate_tokens(1001), 251u);
}

// Issue 9: a stream chunk is a JSON tree only up to kMaxParsedChunkBytes (a tree of a 4 MiB
// chunk of small values would cost tens of megabytes per stream).
TEST(StreamChunk, OversizedChunkIsNeitherReadNorEdited) {
  std::string big = R"({"model":"up","choices":[{"delta":{"content":")" +
                    std::string(kMaxParsedChunkBytes, 'x') + R"("}}],"usage":{"prompt_tokens":1}})";
  EXPECT_FALSE(read_chunk(big));
  StreamEdits edits;
  edits.model = "client";
  edits.drop_usage = true;
  EXPECT_EQ(edit_chunk(big, edits), big);
  std::string small = R"({"model":"up","choices":[{"delta":{"content":"x"}}]})";
  EXPECT_TRUE(read_chunk(small));
  EXPECT_NE(edit_chunk(small, edits), small);
}

}  // namespace
}  // namespace gw::chat
