// ReconnectSchedule: growth, cap, jitter bounds and the reset after a stable connection.
#include "gateway/agent/reconnect_schedule.hpp"

#include <gtest/gtest.h>

namespace gwprobe::gateway::agent {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

TEST(ReconnectSchedule, TheCeilingDoublesFromTheBaseUpToTheCap) {
  ReconnectSchedule s([] { return 0.999999; });
  EXPECT_EQ(s.ceiling(), 250ms);
  std::vector<milliseconds> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(s.next_delay());
  EXPECT_EQ(delays[0], 249ms);
  EXPECT_EQ(delays[1], 499ms);
  EXPECT_EQ(delays[2], 999ms);
  EXPECT_EQ(delays[3], 1999ms);
  EXPECT_EQ(delays[4], 3999ms);
  EXPECT_EQ(delays[5], 4999ms);  // capped at 5 s
  EXPECT_EQ(delays[7], 4999ms);
  EXPECT_EQ(s.ceiling(), 5000ms);
}

TEST(ReconnectSchedule, FullJitterDrawsBetweenZeroAndTheCeiling) {
  double next = 0.0;
  ReconnectSchedule s([&] { return next; });
  EXPECT_EQ(s.next_delay(), 0ms);
  next = 0.5;
  EXPECT_EQ(s.next_delay(), 250ms);  // half of 500
  next = 0.25;
  EXPECT_EQ(s.next_delay(), 250ms);  // a quarter of 1000
}

TEST(ReconnectSchedule, TheDefaultRandomStaysWithinTheCapForever) {
  ReconnectSchedule s;
  for (int i = 0; i < 200; ++i) {
    const auto d = s.next_delay();
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 5000ms);
  }
}

TEST(ReconnectSchedule, OutOfRangeRandomValuesAreClamped) {
  ReconnectSchedule s([] { return 7.0; });
  EXPECT_EQ(s.next_delay(), 250ms);
  ReconnectSchedule negative([] { return -1.0; });
  EXPECT_EQ(negative.next_delay(), 0ms);
}

TEST(ReconnectSchedule, AConnectionThatStayedUpResetsTheBackoff) {
  ReconnectSchedule s([] { return 0.999999; });
  for (int i = 0; i < 6; ++i) (void)s.next_delay();
  ASSERT_EQ(s.ceiling(), 5000ms);
  const core::SteadyClock::time_point t0{};
  s.connected(t0);
  s.disconnected(t0 + 10s);
  EXPECT_EQ(s.failures(), 0u);
  EXPECT_EQ(s.ceiling(), 250ms);
}

TEST(ReconnectSchedule, AConnectionThatDroppedQuicklyKeepsBackingOff) {
  ReconnectSchedule s([] { return 0.999999; });
  for (int i = 0; i < 3; ++i) (void)s.next_delay();
  const core::SteadyClock::time_point t0{};
  s.connected(t0);
  s.disconnected(t0 + 2s);
  EXPECT_EQ(s.failures(), 3u);
  EXPECT_EQ(s.ceiling(), 2000ms);
  s.disconnected(t0 + 60s);  // a second "down" without an "up" in between resets nothing
  EXPECT_EQ(s.failures(), 3u);
}

TEST(ReconnectSchedule, RefusedCredentialsWaitTheFullCap) {
  ReconnectSchedule s([] { return 0.0; });
  EXPECT_EQ(s.auth_refused_delay(), 5000ms);
  EXPECT_EQ(s.auth_refused_delay(), 5000ms);
}

TEST(ReconnectSchedule, CustomSettingsAreHonoured) {
  ReconnectSchedule s({.base = 10ms, .cap = 30ms, .stable_after = 1s}, [] { return 0.999999; });
  EXPECT_EQ(s.next_delay(), 9ms);
  EXPECT_EQ(s.next_delay(), 19ms);
  EXPECT_EQ(s.next_delay(), 29ms);
  EXPECT_EQ(s.next_delay(), 29ms);
  EXPECT_EQ(s.auth_refused_delay(), 30ms);
}

}  // namespace
}  // namespace gwprobe::gateway::agent
