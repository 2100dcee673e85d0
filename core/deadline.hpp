// Deadline: the one time limit a probe (or a whole run) works within.
#pragma once

#include <chrono>

namespace gwprobe::core {

using SteadyClock = std::chrono::steady_clock;

/// A point on the steady clock after which work must stop. Every wait in a probe takes its
/// limit from remaining(); nothing sleeps for a fixed time.
class Deadline {
 public:
  /// A deadline that never passes (for callers that rely on a CancelToken alone).
  static Deadline never() noexcept { return Deadline(SteadyClock::time_point::max()); }
  static Deadline after(SteadyClock::duration budget) noexcept;
  static Deadline at(SteadyClock::time_point when) noexcept { return Deadline(when); }

  SteadyClock::time_point when() const noexcept { return when_; }
  bool is_never() const noexcept { return when_ == SteadyClock::time_point::max(); }
  bool expired() const noexcept { return SteadyClock::now() >= when_; }

  /// Time left, zero once passed.
  SteadyClock::duration remaining() const noexcept;

  /// Time left in whole milliseconds rounded up, capped at `cap_ms`, as poll() and
  /// setsockopt() want it. 0 once passed; never negative; -1 only for never() with no cap.
  int remaining_ms(int cap_ms = -1) const noexcept;

  /// The earlier of the two.
  Deadline earlier(Deadline other) const noexcept { return when_ <= other.when_ ? *this : other; }

  /// A deadline `budget` from now, or this one if it comes first.
  Deadline capped_after(SteadyClock::duration budget) const noexcept {
    return earlier(after(budget));
  }

 private:
  explicit Deadline(SteadyClock::time_point when) noexcept : when_(when) {}
  SteadyClock::time_point when_;
};

}  // namespace gwprobe::core
