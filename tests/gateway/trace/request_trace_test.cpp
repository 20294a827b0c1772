#include "gateway/trace/request_trace.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// A mark well away from the epoch: Clock::time_point{} means "unset".
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

config::Model named(std::string name) {
  config::Model m;
  m.name = std::move(name);
  return m;
}

const config::Model kSmall = named("small");
const config::Model kBig = named("big");

Clock::time_point at_ms(double ms) {
  return kT0 +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

TEST(RouteToString, AllRoutes) {
  EXPECT_EQ(to_string(Route::direct), "direct");
  EXPECT_EQ(to_string(Route::draft), "draft");
  EXPECT_EQ(to_string(Route::escalated), "escalated");
  EXPECT_EQ(to_string(Route::fallback), "fallback");
}

TEST(MsBetween, Marks) {
  EXPECT_DOUBLE_EQ(ms_between(kT0, kT0 + milliseconds(25)), 25.0);
  EXPECT_DOUBLE_EQ(ms_between(kT0, kT0 + microseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(ms_between(kT0, kT0), 0.0);
}

TEST(MsBetween, UnsetOrBackwardsIsZero) {
  EXPECT_EQ(ms_between(Clock::time_point{}, kT0), 0.0);
  EXPECT_EQ(ms_between(kT0, Clock::time_point{}), 0.0);
  EXPECT_EQ(ms_between(Clock::time_point{}, Clock::time_point{}), 0.0);
  EXPECT_EQ(ms_between(kT0 + milliseconds(5), kT0), 0.0);
}

TEST(ServerTiming, NoUpstreamLegIsTotalOnly) {
  RequestTrace t;
  t.received = kT0;
  EXPECT_EQ(server_timing(t, at_ms(3.25)), "total;dur=3.250");
}

TEST(ServerTiming, OneLeg) {
  RequestTrace t;
  t.received = kT0;
  auto& leg = t.new_leg(kSmall);
  leg.prepared = at_ms(2);
  leg.headers = at_ms(12.5);
  leg.first_token = at_ms(15);
  EXPECT_EQ(server_timing(t, at_ms(20)),
            "prep;dur=2.000, upstream;dur=10.500, ttft;dur=15.000, total;dur=20.000");
}

TEST(ServerTiming, OneLegBeforeFirstTokenHasNoTtft) {
  RequestTrace t;
  t.received = kT0;
  auto& leg = t.new_leg(kSmall);
  leg.prepared = at_ms(1);
  leg.headers = at_ms(4);
  EXPECT_EQ(server_timing(t, at_ms(4)), "prep;dur=1.000, upstream;dur=3.000, total;dur=4.000");
}

TEST(ServerTiming, TwoLegs) {
  RequestTrace t;
  t.received = kT0;
  auto& draft = t.new_leg(kSmall);
  draft.prepared = at_ms(1);
  draft.headers = at_ms(5);
  draft.first_token = at_ms(8);
  draft.done = at_ms(50);
  auto& big = t.new_leg(kBig);
  big.prepared = at_ms(51);
  big.headers = at_ms(60);
  big.first_token = at_ms(70);
  // upstream and ttft are the answering (last) leg's; draft is the first leg; escalation runs
  // from the second leg's start to now.
  EXPECT_EQ(server_timing(t, at_ms(80)),
            "prep;dur=1.000, upstream;dur=9.000, ttft;dur=70.000, draft;dur=49.000, "
            "escalation;dur=29.000, total;dur=80.000");
}

TEST(ServerTiming, UnsetMarksGiveZeroNotGarbage) {
  RequestTrace t;
  t.received = kT0;
  t.new_leg(kSmall);  // nothing marked yet
  EXPECT_EQ(server_timing(t, at_ms(7)), "prep;dur=0.000, upstream;dur=0.000, total;dur=7.000");
}

TEST(RequestTrace, NewLegIsBoundedToTwo) {
  const config::Model ma = named("a"), mb = named("b"), mc = named("c");
  RequestTrace t;
  EXPECT_EQ(t.answering_leg(), nullptr);
  auto& a = t.new_leg(ma);
  a.status = 200;
  EXPECT_EQ(t.leg_count, 1);
  t.new_leg(mb).status = 500;
  EXPECT_EQ(t.answering_leg(), &t.legs[1]);
  EXPECT_EQ(t.leg_count, 2);
  auto& c = t.new_leg(mc);  // a third leg reuses the second slot
  EXPECT_EQ(t.leg_count, 2);
  EXPECT_EQ(&c, &t.legs[1]);
  EXPECT_EQ(c.model, &mc);
  EXPECT_EQ(c.status, 0u);  // reset
  EXPECT_EQ(t.legs[0].model, &ma);
}

}  // namespace
}  // namespace gw
