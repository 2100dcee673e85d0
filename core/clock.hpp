// Clock: injectable time for the parts whose behaviour *is* timing (backoff, schedules, ladders).
#pragma once

#include <chrono>
#include <mutex>

#include "core/cancel.hpp"

namespace gwprobe::core {

/// The time source a component reads and sleeps on. Production code gets SteadyClockSource;
/// tests get ManualClock and advance it by hand, so no test waits for real seconds.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  /// Sleeps until `when` or until `cancel` fires; returns false if cancelled.
  virtual bool sleep_until(time_point when, const CancelToken& cancel) = 0;
};

/// The real steady clock.
class SteadyClockSource final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  bool sleep_until(time_point when, const CancelToken& cancel) override {
    const auto left = when - now();
    if (left <= duration::zero()) return !cancel.cancelled();
    return !cancel.wait_for(left);
  }
};

/// A clock that moves only when told. sleep_until() advances it to the wake time at once, so a
/// loop under test runs at full speed while seeing exactly the times it would see in production.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{} + std::chrono::hours(1)) : now_(start) {}
  time_point now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  bool sleep_until(time_point when, const CancelToken& cancel) override {
    if (cancel.cancelled()) return false;
    std::lock_guard lock(mutex_);
    if (when > now_) now_ = when;
    return true;
  }
  void advance(duration by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  time_point now_;
};

}  // namespace gwprobe::core
