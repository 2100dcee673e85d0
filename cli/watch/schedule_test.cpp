// The schedule on a ManualClock: runs take simulated time, sleeps jump the clock, so every
// timing below is exact and nothing waits for real seconds.
#include "cli/watch/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <memory>
#include <thread>

namespace gwprobe::cli::watch {
namespace {
using namespace std::chrono_literals;

/// Feeds the schedule fixed "random" numbers in turn (then 0.5, the middle).
std::function<double()> sequence(std::deque<double> values) {
  auto shared = std::make_shared<std::deque<double>>(std::move(values));
  return [shared] {
    if (shared->empty()) return 0.5;
    const double v = shared->front();
    shared->pop_front();
    return v;
  };
}

struct Recorded {
  RunTiming timing;
  core::Clock::time_point finished;
};

/// Runs the schedule until `runs` runs happened; run i takes durations[i] (0 when absent).
std::vector<Recorded> simulate(ScheduleSettings settings, std::function<double()> random,
                               std::size_t runs, std::vector<core::Clock::duration> durations) {
  core::ManualClock clock;
  Schedule schedule(settings, std::move(random));
  core::CancelToken stop;
  std::vector<Recorded> recorded;
  bool running = false;
  run_schedule(clock, schedule, stop, [&](const RunTiming& timing) {
    EXPECT_FALSE(running) << "runs overlap";
    running = true;
    EXPECT_EQ(timing.started, clock.now()) << "started is when run_once is called";
    const auto i = recorded.size();
    if (i < durations.size()) clock.advance(durations[i]);
    recorded.push_back({timing, clock.now()});
    running = false;
    if (recorded.size() == runs) stop.cancel();
  });
  return recorded;
}

TEST(Schedule, TheFirstRunStartsAtOnce) {
  core::ManualClock clock;
  const auto start = clock.now();
  Schedule schedule({10s, 0.1}, sequence({}));
  core::CancelToken stop;
  std::vector<RunTiming> runs;
  run_schedule(clock, schedule, stop, [&](const RunTiming& t) {
    runs.push_back(t);
    stop.cancel();
  });
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].sequence, 1u);
  EXPECT_EQ(runs[0].started, start);
  EXPECT_EQ(runs[0].lag, core::Clock::duration::zero());
}

TEST(Schedule, WithoutJitterRunsStartExactlyOneIntervalApart) {
  const auto runs = simulate({30s, 0.0}, sequence({0.0, 1.0, 0.3}), 5, {2s, 1s, 3s, 0s, 1s});
  ASSERT_EQ(runs.size(), 5u);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].timing.started - runs[i - 1].timing.started, 30s) << i;
    EXPECT_EQ(runs[i].timing.sequence, i + 1);
    EXPECT_EQ(runs[i].timing.lag, core::Clock::duration::zero());
    EXPECT_FALSE(runs[i].timing.delayed_by_overrun);
  }
}

TEST(Schedule, JitterSpreadsIntervalsWithinTheFractionEitherWay) {
  // u = 0 gives the shortest interval, u -> 1 the longest, 0.5 the nominal one.
  const auto runs = simulate({10s, 0.2}, sequence({0.0, 0.999999, 0.5, 0.25}), 5, {});
  ASSERT_EQ(runs.size(), 5u);
  const auto gap = [&](std::size_t i) {
    return runs[i].timing.started - runs[i - 1].timing.started;
  };
  EXPECT_EQ(gap(1), 8s);
  EXPECT_NEAR(std::chrono::duration<double>(gap(2)).count(), 12.0, 1e-4);
  EXPECT_EQ(gap(3), 10s);
  EXPECT_EQ(gap(4), 9s);
}

TEST(Schedule, RandomJitterStaysInBoundsAndAveragesToTheInterval) {
  const auto runs = simulate({1000ms, 0.1}, random_uniform01(), 400, {});
  double sum = 0;
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const auto gap = runs[i].timing.started - runs[i - 1].timing.started;
    EXPECT_GE(gap, 900ms);
    EXPECT_LE(gap, 1100ms);
    sum += std::chrono::duration<double>(gap).count();
  }
  // 399 uniform draws: the mean is within a few standard errors (0.058 s / sqrt(399)) of 1 s.
  EXPECT_NEAR(sum / 399.0, 1.0, 0.02);
}

TEST(Schedule, ASlowRunDelaysTheNextInsteadOfOverlappingIt) {
  // Run 2 takes 25 s with a 10 s interval: run 3 starts the moment run 2 ends.
  const auto runs = simulate({10s, 0.0}, sequence({}), 4, {1s, 25s, 1s, 1s});
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[2].timing.started, runs[1].finished);
  EXPECT_TRUE(runs[2].timing.delayed_by_overrun);
  EXPECT_EQ(runs[2].timing.planned, runs[1].timing.started + 10s);
  EXPECT_EQ(runs[2].timing.lag, 15s);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    EXPECT_GE(runs[i].timing.started, runs[i - 1].finished) << "overlap at run " << i + 1;
  }
}

TEST(Schedule, MissedSlotsAreDroppedNotMadeUpInABurst) {
  // A 35 s run with a 10 s interval misses three slots; exactly one run follows it, then the
  // rhythm resumes: no catch-up runs back to back.
  const auto runs = simulate({10s, 0.0}, sequence({}), 5, {35s, 1s, 1s, 1s, 1s});
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[1].timing.started - runs[0].timing.started, 35s);
  EXPECT_TRUE(runs[1].timing.delayed_by_overrun);
  EXPECT_EQ(runs[2].timing.started - runs[1].timing.started, 10s);
  EXPECT_FALSE(runs[2].timing.delayed_by_overrun);
  EXPECT_EQ(runs[3].timing.started - runs[2].timing.started, 10s);
}

TEST(Schedule, LateWakeUpsCountAsLag) {
  // A clock whose sleeps overshoot by 2 s (a suspended VM, a loaded host).
  class LateClock final : public core::Clock {
   public:
    time_point now() const override { return inner.now(); }
    bool sleep_until(time_point when, const core::CancelToken& cancel) override {
      const bool woke = inner.sleep_until(when, cancel);
      if (when > start_) inner.advance(2s);
      return woke;
    }
    core::ManualClock inner;
    time_point start_ = inner.now();
  } clock;
  Schedule schedule({10s, 0.0}, sequence({}));
  core::CancelToken stop;
  std::vector<RunTiming> runs;
  run_schedule(clock, schedule, stop, [&](const RunTiming& t) {
    runs.push_back(t);
    if (runs.size() == 3) stop.cancel();
  });
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1].lag, 2s);
  EXPECT_FALSE(runs[1].delayed_by_overrun);
  EXPECT_EQ(runs[2].planned, runs[1].started + 10s);  // the next slot counts from the real start
}

TEST(Schedule, StopsWithoutAnotherRunOnceCancelled) {
  core::ManualClock clock;
  Schedule schedule({10s, 0.0}, sequence({}));
  core::CancelToken stop;
  stop.cancel();
  int runs = 0;
  run_schedule(clock, schedule, stop, [&](const RunTiming&) { ++runs; });
  EXPECT_EQ(runs, 0);
}

TEST(Schedule, ASleepOnTheRealClockWakesAtOnceWhenStopped) {
  core::SteadyClockSource clock;
  Schedule schedule({std::chrono::hours(1), 0.0}, sequence({}));
  core::CancelToken stop;
  int runs = 0;
  std::thread stopper;
  const auto began = std::chrono::steady_clock::now();
  run_schedule(clock, schedule, stop, [&](const RunTiming&) {
    ++runs;
    stopper = std::thread([stop] { stop.cancel(); });  // while the loop sleeps for an hour
  });
  stopper.join();
  EXPECT_EQ(runs, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 30s);  // a bound, not a speed target
}

struct BadSchedule {
  ScheduleSettings settings;
  const char* message;
};

TEST(Schedule, RejectsIntervalsAndJitterOutOfRange) {
  const BadSchedule bad[] = {
      {{0ms, 0.1}, "--interval: must be more than 0"},
      {{-5ms, 0.1}, "--interval: must be more than 0"},
      {{1s, -0.1}, "--jitter: expected a fraction from 0 to 0.5"},
      {{1s, 0.51}, "--jitter: expected a fraction from 0 to 0.5"},
      {{1s, std::nan("")}, "--jitter: expected a fraction from 0 to 0.5"},
  };
  for (const auto& b : bad) {
    const auto result = validate(b.settings);
    ASSERT_FALSE(result.has_value()) << b.message;
    EXPECT_EQ(result.error().message.rfind(b.message, 0), 0u) << result.error().message;
  }
  EXPECT_TRUE(validate({1ms, 0.0}).has_value());
  EXPECT_TRUE(validate({1s, 0.5}).has_value());
}

}  // namespace
}  // namespace gwprobe::cli::watch
