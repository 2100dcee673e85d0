// AuthFailureLimiter on a manual clock.
#include "gateway/relay/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace gwprobe::gateway::relay {
namespace {

using namespace std::chrono_literals;

TEST(AuthFailureLimiter, BlocksASourceAfterTooManyFailuresInTheWindowThenForgives) {
  core::ManualClock clock;
  AuthFailureLimiter limiter(clock, 3, 10s, 30s);
  limiter.record_failure("10.0.0.1");
  limiter.record_failure("10.0.0.1");
  EXPECT_FALSE(limiter.blocked("10.0.0.1"));
  limiter.record_failure("10.0.0.1");
  EXPECT_TRUE(limiter.blocked("10.0.0.1"));
  EXPECT_FALSE(limiter.blocked("10.0.0.2"));
  clock.advance(29s);
  EXPECT_TRUE(limiter.blocked("10.0.0.1"));
  clock.advance(2s);
  EXPECT_FALSE(limiter.blocked("10.0.0.1"));
}

TEST(AuthFailureLimiter, FailuresSpreadOverWindowsDoNotBlock) {
  core::ManualClock clock;
  AuthFailureLimiter limiter(clock, 3, 10s, 30s);
  for (int i = 0; i < 10; ++i) {
    limiter.record_failure("a");
    limiter.record_failure("a");
    clock.advance(11s);
    EXPECT_FALSE(limiter.blocked("a"));
  }
}

TEST(AuthFailureLimiter, TracksABoundedNumberOfSources) {
  core::ManualClock clock;
  AuthFailureLimiter limiter(clock, 3, 10s, 30s, 100);
  for (int i = 0; i < 1000; ++i) limiter.record_failure("10.1." + std::to_string(i));
  EXPECT_LE(limiter.tracked(), 100u);
  clock.advance(11s);
  limiter.record_failure("new");
  EXPECT_LE(limiter.tracked(), 100u);
}

}  // namespace
}  // namespace gwprobe::gateway::relay
