#include "gateway/trace/request_trace.hpp"

#include <charconv>

namespace gw {

std::string_view to_string(Route r) {
  switch (r) {
    case Route::direct:
      return "direct";
    case Route::draft:
      return "draft";
    case Route::escalated:
      return "escalated";
    case Route::fallback:
      return "fallback";
  }
  return "direct";
}

LegTokens tokens_of(const UpstreamLeg& leg, std::uint64_t prompt_chars) {
  if (leg.usage_reported) return {leg.prompt_tokens, leg.completion_tokens, false};
  return {(prompt_chars + 3) / 4,
          leg.completion_tokens ? leg.completion_tokens : leg.content_events, true};
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  if (from == Clock::time_point{} || to == Clock::time_point{} || to < from) return 0;
  return std::chrono::duration<double, std::milli>(to - from).count();
}

namespace {
void append_stage(std::string& out, const char* name, double ms) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  out.append(out.empty() ? "" : ", ").append(name).append(";dur=").append(buf, end);
}
}  // namespace

std::string server_timing(const RequestTrace& t, Clock::time_point now) {
  std::string out;
  if (t.leg_count == 0) {
    append_stage(out, "total", ms_between(t.received, now));
    return out;
  }
  const UpstreamLeg& first = t.legs[0];
  const UpstreamLeg& last = t.legs[t.leg_count - 1];
  append_stage(out, "prep", ms_between(t.received, first.prepared));
  append_stage(out, "upstream", ms_between(last.prepared, last.headers));
  if (last.first_token != Clock::time_point{}) {
    append_stage(out, "ttft", ms_between(t.received, last.first_token));
  }
  if (t.leg_count == 2) {
    append_stage(out, "draft", ms_between(first.prepared, first.done));
    append_stage(out, "escalation", ms_between(last.prepared, now));
  } else if (t.route == Route::draft) {  // an accepted draft: its own time, held or whole
    append_stage(out, "draft", ms_between(first.prepared, now));
  }
  append_stage(out, "total", ms_between(t.received, now));
  return out;
}

}  // namespace gw
