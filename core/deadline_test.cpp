#include "core/deadline.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core/cancel.hpp"
#include "core/clock.hpp"

namespace gwprobe::core {
namespace {
using namespace std::chrono_literals;

TEST(Deadline, NeverDoesNotExpireAndPollsForeverWithoutCap) {
  auto d = Deadline::never();
  EXPECT_FALSE(d.expired());
  EXPECT_TRUE(d.is_never());
  EXPECT_EQ(d.remaining_ms(), -1);
  EXPECT_EQ(d.remaining_ms(250), 250);
}

TEST(Deadline, RemainingIsZeroOnceExpired) {
  auto d = Deadline::after(0ms);
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(d.remaining(), SteadyClock::duration::zero());
  EXPECT_EQ(d.remaining_ms(), 0);
}

TEST(Deadline, RemainingMsRoundsUpSoPollNeverWakesEarly) {
  auto d = Deadline::after(1500us);
  const int ms = d.remaining_ms();
  EXPECT_GE(ms, 1);
  EXPECT_LE(ms, 2);
}

TEST(Deadline, EarlierPicksTheSoonerAndCappedAfterNeverExtends) {
  auto soon = Deadline::after(10ms);
  auto late = Deadline::after(10s);
  EXPECT_EQ(soon.earlier(late).when(), soon.when());
  EXPECT_EQ(late.earlier(soon).when(), soon.when());
  EXPECT_EQ(soon.capped_after(1h).when(), soon.when());
  EXPECT_LT(late.capped_after(1ms).when(), late.when());
}

TEST(Deadline, HugeBudgetsSaturateToNever) {
  EXPECT_TRUE(Deadline::after(SteadyClock::duration::max()).is_never());
}

TEST(CancelToken, CopiesShareOneStateAndTheFdBecomesReadable) {
  CancelToken a;
  CancelToken b = a;
  EXPECT_FALSE(b.cancelled());
  a.cancel();
  EXPECT_TRUE(b.cancelled());
  EXPECT_TRUE(b.wait_for(10s));  // returns at once
}

TEST(CancelToken, WaitForTimesOutWhenNotCancelled) {
  CancelToken t;
  const auto start = SteadyClock::now();
  EXPECT_FALSE(t.wait_for(20ms));
  EXPECT_GE(SteadyClock::now() - start, 20ms);
}

TEST(CancelToken, CancelFromAnotherThreadWakesAWaiterPromptly) {
  CancelToken t;
  std::thread canceller([t] {
    std::this_thread::sleep_for(20ms);
    t.cancel();
  });
  const auto start = SteadyClock::now();
  EXPECT_TRUE(t.wait_for(30s));
  EXPECT_LT(SteadyClock::now() - start, 5s);
  canceller.join();
}

TEST(ManualClock, SleepAdvancesTimeInsteadOfWaiting) {
  ManualClock clock;
  CancelToken cancel;
  const auto t0 = clock.now();
  EXPECT_TRUE(clock.sleep_until(t0 + 300s, cancel));
  EXPECT_EQ(clock.now() - t0, 300s);
  clock.advance(5s);
  EXPECT_EQ(clock.now() - t0, 305s);
  cancel.cancel();
  EXPECT_FALSE(clock.sleep_until(t0 + 400s, cancel));
}

}  // namespace
}  // namespace gwprobe::core
