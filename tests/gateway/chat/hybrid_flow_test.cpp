// The routing flow in-process, over scripted fakes of both sides of the seam: every verdict,
// streamed and not, replace and refine, each failure point, the hold window's exact boundary and
// the request deadline. Nothing here opens a socket; every wait is a real wait on an io_context.

#include "gateway/chat/hybrid_flow.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "fakes.hpp"
#include "gateway/chat/forward.hpp"

namespace gw::chat {
namespace {

using namespace testing;
using upstream::CallError;

std::string chat_body(bool stream, std::string_view user = "What is the capital of France?") {
  nlohmann::json body = {
      {"model", "auto"}, {"stream", stream}, {"messages", {{{"role", "user"}, {"content", user}}}}};
  return body.dump();
}

// One request through the flow: both fakes, the trace, and whether the flow returned.
struct FlowRun {
  explicit FlowRun(ServingSnapshot s) : serving(std::move(s)) {
    trace.request_id = "req-1";
    trace.received = Clock::now();
    deadline = trace.received + std::chrono::milliseconds(serving->cfg->server.request_timeout_ms);
  }

  FakeModels models;
  FakeClient client{models};
  RequestTrace trace;
  ServingSnapshot serving;
  Clock::time_point deadline;
  bool finished = false;
};

net::awaitable<void> run_hybrid(FlowRun& r, FlowContext& cx, ChatRequest& request) {
  co_await hybrid_flow(cx, request);
  r.finished = true;
}

// Runs `body` through hybrid_flow on an io_context for at most `budget` (a flow still waiting
// then has missed its deadline: the test fails on `finished`, it never hangs).
void route(FlowRun& r, const std::string& body,
           std::chrono::milliseconds budget = std::chrono::milliseconds(3000)) {
  auto parsed = parse_chat_request(body);
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(parsed));
  ChatRequest request = std::get<ChatRequest>(std::move(parsed));
  load_json(request, body);
  FlowContext cx{r.client, r.models, r.trace, r.serving, r.deadline, nullptr, false};
  net::io_context ioc;
  net::co_spawn(ioc, run_hybrid(r, cx, request), net::detached);
  ioc.run_for(budget);
}

std::vector<std::string> called_models(const FlowRun& r) {
  std::vector<std::string> names;
  names.reserve(r.models.calls.size());
  for (const auto& c : r.models.calls) names.push_back(c.model);
  return names;
}

std::string joined(const std::vector<std::string>& pieces, std::size_t n = SIZE_MAX) {
  std::string s;
  for (std::size_t i = 0; i < pieces.size() && i < n; ++i) s += pieces[i];
  return s;
}

// Every upstream call is opened with the request's deadline: none may outlive it.
void expect_request_deadline_on_every_call(const FlowRun& r) {
  for (const auto& c : r.models.calls) {
    EXPECT_EQ(c.deadline, r.deadline) << c.model << " was not given the request's deadline";
  }
}

// ---- the hold window, exactly at its boundary ---------------------------------------------------

struct HoldCase {
  std::uint32_t hold_tokens;
  int draft_tokens;
  std::size_t reads_before_head;  // draft reads (one event each) when the client's head went out
};

class HoldWindow : public ::testing::TestWithParam<HoldCase> {};

// A rule that can fire on any later token (refusal) keeps the window open until exactly
// hold_tokens content tokens are held; a draft that ends first is held whole (tokens, finish
// event, [DONE]). Nothing reaches the client before that, and everything after.
TEST_P(HoldWindow, HoldsExactlyHoldTokensThenRelaysEveryByte) {
  const HoldCase c = GetParam();
  FlowRun r(
      serving_with("  after_draft:\n    refusal: [\"(?i)insufficient context\"]\n"
                   "  stream:\n    hold_tokens: " +
                   std::to_string(c.hold_tokens) + "\n"));
  ModelScript draft = streamed_tokens(c.draft_tokens);
  const std::string all = joined(draft.pieces);
  r.models.script("phi", draft);
  route(r, chat_body(true));
  ASSERT_TRUE(r.finished);
  const ClientEvent* head = r.client.first(ClientEvent::begin_stream);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->model_reads, c.reads_before_head);
  EXPECT_EQ(r.trace.route, Route::draft);
  EXPECT_EQ(r.client.streamed(), all);  // byte for byte, nothing lost or added at the boundary
  EXPECT_EQ(r.client.events.back().kind, ClientEvent::end_stream);
  EXPECT_EQ(called_models(r), std::vector<std::string>{"phi"});
}

INSTANTIATE_TEST_SUITE_P(Boundary, HoldWindow,
                         ::testing::Values(HoldCase{1, 5, 1}, HoldCase{3, 2, 4}, HoldCase{3, 3, 3},
                                           HoldCase{3, 4, 3}, HoldCase{24, 23, 25},
                                           HoldCase{24, 24, 24}, HoldCase{24, 25, 24},
                                           HoldCase{0, 5, 1}),
                         [](const auto& info) {
                           return "hold" + std::to_string(info.param.hold_tokens) + "_draft" +
                                  std::to_string(info.param.draft_tokens);
                         });

// A rule that can no longer fire ends the window early: chars_under passed, nothing else on.
TEST(HoldWindowEnd, EndsOnceNoRuleCanFireOnMoreText) {
  FlowRun r(
      serving_with("  after_draft:\n    chars_under: 5\n    finish_reason_length: false\n"
                   "  stream:\n    hold_tokens: 24\n"));
  r.models.script("phi", streamed_tokens(30));
  route(r, chat_body(true));
  ASSERT_TRUE(r.finished);
  // "w0 w1 " (6 code points) passes chars_under 5 on the second token.
  EXPECT_EQ(r.client.first(ClientEvent::begin_stream)->model_reads, 2u);
}

// hold_max_bytes reached with text held: judged on that prefix, like any other.
TEST(HoldWindowEnd, ByteBoundJudgesThePrefix) {
  FlowRun r(
      serving_with("  after_draft:\n    refusal: [\"(?i)insufficient context\"]\n"
                   "  stream:\n    hold_tokens: 24\n    hold_max_bytes: 1024\n"));
  ModelScript draft = streamed_tokens(30);
  r.models.script("phi", draft);
  route(r, chat_body(true));
  ASSERT_TRUE(r.finished);
  const std::size_t event_bytes = draft.pieces[0].size();
  // The first read past 1024 held bytes ends the window (before hold_tokens: 24 events are more).
  ASSERT_GT(24 * event_bytes, 1024u);
  EXPECT_EQ(r.client.first(ClientEvent::begin_stream)->model_reads, 1024 / event_bytes + 1);
  EXPECT_EQ(r.trace.route, Route::draft);
  EXPECT_EQ(r.client.streamed(), joined(draft.pieces));
}

// ---- every verdict, streamed and not, replace and refine, each failure point
// ---------------------

struct FlowCase {
  const char* name;
  bool stream;
  const char* on_escalate;  // replace | refine
  bool fallback;
  std::vector<ModelScript> phi, big;  // each model's calls in order
  Route route;
  const char* reason;    // "" when none
  const char* answered;  // the model whose answer the client got
  std::vector<std::string> calls;
  unsigned status;         // the client's status line
  ClientEvent::Kind last;  // how the response ended
  bool large_sees_draft;   // refine: the large model was shown the draft
};

ModelScript whole(std::string_view text) {
  ModelScript s;
  s.event_stream = false;
  s.pieces.push_back(whole_answer(text));
  return s;
}
ModelScript failing(CallError e) {
  ModelScript s;
  s.start_error = e;
  return s;
}
ModelScript http_status(unsigned status) {
  ModelScript s;
  s.status = status;
  s.event_stream = false;
  s.pieces.emplace_back(R"({"error":{"message":"overloaded","type":"server_error"}})");
  return s;
}
ModelScript cut_after(int tokens) {  // a stream that breaks off after `tokens`, no [DONE]
  ModelScript s = streamed_tokens(tokens);
  s.pieces.resize(static_cast<std::size_t>(tokens));
  s.then = CallError::closed;
  return s;
}
ModelScript not_a_chat_stream() {
  ModelScript s;
  s.pieces.emplace_back("data: {\"choices\": [ nonsense\n\n");
  return s;
}

constexpr const char* kLong = "Paris is the capital and largest city of France.";

class Verdicts : public ::testing::TestWithParam<FlowCase> {};

TEST_P(Verdicts, RouteCallsAndAnswer) {
  const FlowCase& c = GetParam();
  FlowRun r(serving_with(std::string("  on_escalate: ") + c.on_escalate +
                         "\n  fallback: " + (c.fallback ? "true" : "false") +
                         "\n  after_draft:\n    chars_under: 20\n"
                         "    refusal: [\"(?i)insufficient context\"]\n"
                         "  stream:\n    hold_tokens: 4\n"));
  for (const auto& s : c.phi) r.models.script("phi", s);
  for (const auto& s : c.big) r.models.script("big", s);
  route(r, chat_body(c.stream));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(called_models(r), c.calls);
  EXPECT_EQ(r.trace.route, c.route);
  EXPECT_EQ(r.trace.reason, c.reason);
  ASSERT_NE(r.trace.answered, nullptr);
  EXPECT_EQ(r.trace.answered->name, c.answered);
  EXPECT_EQ(r.client.sent_status(), c.status);
  ASSERT_FALSE(r.client.events.empty());
  EXPECT_EQ(r.client.events.back().kind, c.last);
  for (const auto& call : r.models.calls) EXPECT_EQ(call.stream, c.stream) << call.model;
  for (const auto& call : r.models.calls) EXPECT_TRUE(call.finished) << call.model << " left open";
  if (c.large_sees_draft) {
    ASSERT_GE(r.models.calls.size(), 2u);
    EXPECT_NE(r.models.calls[1].body.find("w0 w1"), std::string::npos) << r.models.calls[1].body;
  } else if (r.models.calls.size() > 1) {
    EXPECT_EQ(r.models.calls[1].body.find("w0 w1"), std::string::npos) << r.models.calls[1].body;
  }
  expect_request_deadline_on_every_call(r);
}

using K = ClientEvent::Kind;
const std::vector<std::string> kPhi{"phi"}, kPhiBig{"phi", "big"}, kPhiBigPhi{"phi", "big", "phi"};

INSTANTIATE_TEST_SUITE_P(Whole, Verdicts,
                         ::testing::Values(FlowCase{"accepted",
                                                    false,
                                                    "replace",
                                                    true,
                                                    {whole(kLong)},
                                                    {},
                                                    Route::draft,
                                                    "",
                                                    "phi",
                                                    kPhi,
                                                    200,
                                                    K::reply,
                                                    false},
                                           FlowCase{"short_replaced",
                                                    false,
                                                    "replace",
                                                    true,
                                                    {whole("w0 w1 ")},
                                                    {whole(kLong)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::reply,
                                                    false},
                                           FlowCase{"short_refined",
                                                    false,
                                                    "refine",
                                                    true,
                                                    {whole("w0 w1 ")},
                                                    {whole(kLong)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::reply,
                                                    true},
                                           FlowCase{"draft_unreachable",
                                                    false,
                                                    "replace",
                                                    true,
                                                    {failing(CallError::connect)},
                                                    {whole(kLong)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::reply,
                                                    false},
                                           FlowCase{"draft_500",
                                                    false,
                                                    "replace",
                                                    true,
                                                    {http_status(500)},
                                                    {whole(kLong)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::reply,
                                                    false},
                                           FlowCase{"draft_unreachable_no_fallback",
                                                    false,
                                                    "replace",
                                                    false,
                                                    {failing(CallError::connect)},
                                                    {},
                                                    Route::draft,
                                                    "",
                                                    "phi",
                                                    kPhi,
                                                    502,
                                                    K::reply_error,
                                                    false},
                                           FlowCase{"large_fails_draft_answers",
                                                    false,
                                                    "replace",
                                                    true,
                                                    {whole("w0 w1 ")},
                                                    {failing(CallError::timeout)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "phi",
                                                    kPhiBig,
                                                    200,
                                                    K::reply,
                                                    false},
                                           FlowCase{"large_fails_no_fallback",
                                                    false,
                                                    "replace",
                                                    false,
                                                    {whole("w0 w1 ")},
                                                    {failing(CallError::closed)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    502,
                                                    K::reply_error,
                                                    false}),
                         [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(Streamed, Verdicts,
                         ::testing::Values(FlowCase{"accepted",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {streamed_tokens(10)},
                                                    {},
                                                    Route::draft,
                                                    "",
                                                    "phi",
                                                    kPhi,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"short_replaced",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {streamed_tokens(2)},
                                                    {streamed_tokens(10)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"short_refined",
                                                    true,
                                                    "refine",
                                                    true,
                                                    {streamed_tokens(2)},
                                                    {streamed_tokens(10)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_stream,
                                                    true},
                                           FlowCase{"draft_unreachable",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {failing(CallError::connect)},
                                                    {streamed_tokens(10)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"draft_not_a_chat_stream",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {not_a_chat_stream()},
                                                    {streamed_tokens(10)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"draft_cut_before_commit",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {cut_after(2)},
                                                    {streamed_tokens(10)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"draft_cut_after_commit",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {cut_after(8)},
                                                    {},
                                                    Route::draft,
                                                    "",
                                                    "phi",
                                                    kPhi,
                                                    200,
                                                    K::end_with_error,
                                                    false},
                                           FlowCase{"draft_unreachable_no_fallback",
                                                    true,
                                                    "replace",
                                                    false,
                                                    {failing(CallError::connect)},
                                                    {},
                                                    Route::draft,
                                                    "",
                                                    "phi",
                                                    kPhi,
                                                    502,
                                                    K::reply_error,
                                                    false},
                                           // The escalation fails before its first byte: the other
                                           // model streams instead.
                                           FlowCase{"large_fails_draft_model_answers",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {streamed_tokens(2), streamed_tokens(10)},
                                                    {failing(CallError::connect)},
                                                    Route::fallback,
                                                    "upstream_error",
                                                    "phi",
                                                    kPhiBigPhi,
                                                    200,
                                                    K::end_stream,
                                                    false},
                                           FlowCase{"large_cut_mid_stream",
                                                    true,
                                                    "replace",
                                                    true,
                                                    {streamed_tokens(2)},
                                                    {cut_after(6)},
                                                    Route::escalated,
                                                    "chars_under",
                                                    "big",
                                                    kPhiBig,
                                                    200,
                                                    K::end_with_error,
                                                    false}),
                         [](const auto& info) { return std::string(info.param.name); });

// Replace closes the draft at the verdict, so the small model stops generating; refine reads
// the rest of it first (the large model improves the whole draft).
TEST(Escalation, ReplaceStopsReadingTheDraftRefineReadsItAll) {
  for (const char* mode : {"replace", "refine"}) {
    FlowRun r(serving_with(std::string("  on_escalate: ") + mode +
                           "\n  after_draft:\n    refusal: [\"(?i)insufficient context\"]\n"
                           "  stream:\n    hold_tokens: 4\n"));
    ModelScript draft = streamed_tokens(20);
    draft.pieces.insert(draft.pieces.begin(), content_event("insufficient context. "));
    r.models.script("phi", draft);
    r.models.script("big", streamed_tokens(10));
    route(r, chat_body(true));
    ASSERT_TRUE(r.finished) << mode;
    EXPECT_EQ(r.trace.route, Route::escalated) << mode;
    EXPECT_EQ(r.trace.reason, "refusal") << mode;
    const CallRecord& phi = r.models.calls.at(0);
    EXPECT_TRUE(phi.finished);
    // The verdict came at hold_tokens (a refusal could come on any token, so the window is
    // held to its end, then it fires on the prefix).
    EXPECT_EQ(phi.pieces_read, std::string(mode) == "replace" ? 4u : draft.pieces.size()) << mode;
    const bool shown = r.models.calls.at(1).body.find("w19") != std::string::npos;
    EXPECT_EQ(shown, std::string(mode) == "refine") << mode;
    // Nothing of the draft reached the client: only the large model's stream.
    EXPECT_EQ(r.client.streamed(), joined(streamed_tokens(10).pieces)) << mode;
  }
}

// ---- the request deadline -------------------------------------------------------------------

struct DeadlineCase {
  const char* name;
  bool stream;
  std::vector<ModelScript> phi, big;
  ClientEvent::Kind last;
  unsigned logged_status;  // what the access log says
};

ModelScript stalls_after(int tokens, bool stream) {
  ModelScript s = stream ? streamed_tokens(tokens) : ModelScript{};
  s.event_stream = stream;
  s.pieces.resize(static_cast<std::size_t>(tokens));
  s.stall = true;
  return s;
}

class Deadline : public ::testing::TestWithParam<DeadlineCase> {};

// A model that stops sending is cut at the request's deadline, not at its own timeout_ms, and
// the client is told: a 504 request_timeout, or after the head, the same as an error event.
// Without the deadline on the call the flow would wait for ever: the run's budget fails it.
TEST_P(Deadline, ModelStallEndsAtTheRequestDeadlineWith504) {
  const DeadlineCase& c = GetParam();
  FlowRun r(serving_with("  after_draft:\n    chars_under: 20\n  stream:\n    hold_tokens: 4\n",
                         /*request_timeout_ms=*/150));
  for (const auto& s : c.phi) r.models.script("phi", s);
  for (const auto& s : c.big) r.models.script("big", s);
  const auto started = Clock::now();
  route(r, chat_body(c.stream), std::chrono::milliseconds(5000));
  ASSERT_TRUE(r.finished) << "the flow outlived its request deadline";
  EXPECT_GE(Clock::now(), r.deadline);  // ended by the deadline, not before it
  (void)started;
  ASSERT_FALSE(r.client.events.empty());
  const ClientEvent& last = r.client.events.back();
  EXPECT_EQ(last.kind, c.last);
  EXPECT_EQ(last.status, 504u);
  EXPECT_NE(last.bytes.find(kRequestTimeoutCode), std::string::npos) << last.bytes;
  if (c.last == K::end_with_error) {
    EXPECT_EQ(r.trace.status, c.logged_status);
  }
  expect_request_deadline_on_every_call(r);
}

INSTANTIATE_TEST_SUITE_P(
    Stall, Deadline,
    ::testing::Values(
        DeadlineCase{"whole_draft", false, {stalls_after(0, false)}, {}, K::reply_error, 504},
        DeadlineCase{
            "stream_before_commit", true, {stalls_after(1, true)}, {}, K::reply_error, 504},
        DeadlineCase{
            "stream_after_commit", true, {stalls_after(6, true)}, {}, K::end_with_error, 504},
        DeadlineCase{"escalated_stream",
                     true,
                     {streamed_tokens(2)},
                     {stalls_after(3, true)},
                     K::end_with_error,
                     504}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- the direct relay over the same seam --------------------------------------------------------

net::awaitable<void> run_relay(FlowRun& r, FlowContext& cx, const config::Model& m,
                               std::string body, bool stream) {
  const StreamEdits none;  // named: GCC 12 mis-destroys a temporary bound across co_await
  co_await relay(cx, m, std::move(body), stream, none, upstream::kChatCompletionsPath);
  r.finished = true;
}

void relay_to_phi(FlowRun& r, bool stream) {
  FlowContext cx{r.client, r.models, r.trace, r.serving, r.deadline, nullptr, false};
  net::io_context ioc;
  net::co_spawn(ioc, run_relay(r, cx, *r.serving->draft, "{}", stream), net::detached);
  ioc.run_for(std::chrono::milliseconds(5000));
}

TEST(Relay, StreamIsRelayedByteForByteAndUpstreamStatusKept) {
  FlowRun r(serving_with("", 150));
  ModelScript s = streamed_tokens(7);
  r.models.script("phi", s);
  relay_to_phi(r, true);
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.client.streamed(), joined(s.pieces));
  EXPECT_EQ(r.client.events.back().kind, K::end_stream);

  FlowRun e(serving_with("", 150));
  e.models.script("phi", http_status(503));
  relay_to_phi(e, false);
  ASSERT_TRUE(e.finished);
  EXPECT_EQ(e.client.sent_status(), 503u);
  EXPECT_NE(e.client.events.back().bytes.find("overloaded"), std::string::npos);
}

TEST(Relay, StallEndsAtTheRequestDeadline) {
  for (bool stream : {false, true}) {
    FlowRun r(serving_with("", 150));
    r.models.script("phi", stalls_after(stream ? 2 : 0, stream));
    relay_to_phi(r, stream);
    ASSERT_TRUE(r.finished) << "stream=" << stream;
    EXPECT_EQ(r.client.events.back().status, 504u);
    EXPECT_EQ(r.client.events.back().kind, stream ? K::end_with_error : K::reply_error);
    expect_request_deadline_on_every_call(r);
  }
}

}  // namespace
}  // namespace gw::chat

namespace gw::chat {
namespace {

// A client that stops reading mid-stream: the flow stops writing and closes the draft call (the
// small model stops generating); nothing more is read from it.
TEST(ClientGone, WriteFailureStopsTheFlowAndClosesTheModelCall) {
  FlowRun r(serving_with("  after_draft:\n    chars_under: 20\n  stream:\n    hold_tokens: 4\n"));
  r.models.script("phi", streamed_tokens(40));
  r.client.gone_ = true;  // every write fails
  route(r, chat_body(true));
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.models.calls.size(), 1u);
  EXPECT_TRUE(r.models.calls[0].finished);
  EXPECT_EQ(r.models.calls[0].pieces_read, 4u);  // the hold window, then the first write failed
}

}  // namespace
}  // namespace gw::chat
