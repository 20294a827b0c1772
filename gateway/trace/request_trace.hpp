#pragma once
// RequestTrace: the one record of a request. Headers, metrics and the access log are all read
// from it; no stage keeps its own timers.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"
#include "gateway/trace/decision_signals.hpp"

namespace gw {

enum class Route { direct, draft, escalated, fallback };
std::string_view to_string(Route r);

using Clock = std::chrono::steady_clock;

// One call to one upstream model (a request has one, or two for an escalation or fallback).
struct UpstreamLeg {
  const config::Model* model = nullptr;  // in the request's config snapshot
  Clock::time_point prepared{};          // upstream request ready
  Clock::time_point sent{};              // connection acquired, request written
  Clock::time_point headers{};           // upstream response head received
  Clock::time_point first_token{};       // first content token received
  Clock::time_point done{};
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t content_events = 0;  // streamed chunks with text: the estimate when no usage
  bool usage_reported = false;       // false: tokens are the gateway's estimate
  unsigned status = 0;
  std::string_view error;  // why the call failed ("connect", "timeout", "bad_response", ...)
};

// Bounded: the prompt text logged with server.log_prompts (the last user message, or `input`).
inline constexpr std::size_t kMaxLoggedPromptBytes = 2048;

struct RequestTrace {
  Clock::time_point received{};    // request fully read
  Clock::time_point first_byte{};  // first body byte of the answer sent to the client
  Clock::time_point finished{};
  std::string request_id;
  std::string_view method;
  std::string path;
  std::string model_requested;
  const config::Model* answered = nullptr;  // the model that produced the answer
  Route route = Route::direct;
  std::string_view reason;          // escalation reason, empty when none fired
  std::string_view would_escalate;  // a committed stream's draft that a later signal judged bad
  unsigned status = 0;
  bool stream = false;
  std::uint64_t bytes_out = 0;
  std::string error;   // a short cause for the log, never prompt text
  std::string prompt;  // only with server.log_prompts (debug), at most kMaxLoggedPromptBytes

  UpstreamLeg legs[2];
  int leg_count = 0;
  std::uint64_t prompt_chars = 0;  // for token estimates when an upstream reports no usage
  DecisionSignals decision;        // what the routing rules read (for routing.decision_log)

  UpstreamLeg& new_leg(const config::Model& model) {
    UpstreamLeg& leg = legs[leg_count < 2 ? leg_count++ : 1];
    leg = UpstreamLeg{};
    leg.model = &model;
    return leg;
  }
  // The leg whose answer the client got (the last one), or nullptr.
  const UpstreamLeg* answering_leg() const { return leg_count ? &legs[leg_count - 1] : nullptr; }
};

// A call's tokens: the upstream's usage, else an estimate (a token per 4 prompt characters, a
// token per streamed text chunk); `estimated` says which.
struct LegTokens {
  std::uint64_t prompt = 0;
  std::uint64_t completion = 0;
  bool estimated = false;
};
LegTokens tokens_of(const UpstreamLeg& leg, std::uint64_t prompt_chars);

// Milliseconds between two marks, 0 when either is unset.
double ms_between(Clock::time_point from, Clock::time_point to);

// The Server-Timing header value for the stages known when the head is sent.
std::string server_timing(const RequestTrace& t, Clock::time_point now);

}  // namespace gw
