// The watch schedule: when each run starts. Jittered intervals, first run at once, and no
// overlap: a run that outlasts its interval delays the next one, and missed slots are dropped,
// never made up in a burst.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/cancel.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace gwprobe::cli::watch {

struct ScheduleSettings {
  std::chrono::milliseconds interval{60'000};
  /// Each interval is drawn uniformly from interval x [1 - jitter, 1 + jitter], so that a fleet
  /// started together does not probe (and load its proxies) in lockstep.
  double jitter = 0.1;
};

/// The largest --jitter accepted: beyond it an interval could shrink to almost nothing.
inline constexpr double kMaxJitter = 0.5;

/// invalid_input when the interval is not positive or the jitter is outside [0, kMaxJitter].
core::Result<void> validate(const ScheduleSettings& settings);

/// When one run was meant to start and what happened.
struct RunTiming {
  std::uint64_t sequence = 0;       ///< 1 for the first run
  core::Clock::time_point planned;  ///< when the schedule wanted it to start
  core::Clock::time_point started;  ///< when it did start
  core::Clock::duration lag{};      ///< started - planned (never negative)
  bool delayed_by_overrun = false;  ///< the previous run was still going at `planned`
};

/// The pure part: the planned start of the next run. `uniform01` returns numbers in [0, 1).
class Schedule {
 public:
  Schedule(ScheduleSettings settings, std::function<double()> uniform01);

  /// One jittered interval.
  core::Clock::duration next_interval();

  /// Timing of the run after one that started at `previous_start` and finished at
  /// `previous_end`: planned one jittered interval after the previous start; if the previous
  /// run was still going then, it starts when that run finished (lag = the overrun).
  RunTiming after(const RunTiming& previous, core::Clock::time_point previous_end);

  /// Timing of the first run, which starts at `now`.
  static RunTiming first(core::Clock::time_point now);

 private:
  ScheduleSettings settings_;
  std::function<double()> uniform01_;
};

/// Runs `run_once` on the schedule until `stop` is cancelled: the first run at once, then each
/// at its planned time (sleeping on `clock`, waking on `stop`). `run_once` is called on the
/// caller's thread, one at a time; the timing it receives has `started` = clock.now().
void run_schedule(core::Clock& clock, Schedule& schedule, const core::CancelToken& stop,
                  const std::function<void(const RunTiming&)>& run_once);

/// A uniform [0, 1) source seeded from std::random_device (production default).
std::function<double()> random_uniform01();

}  // namespace gwprobe::cli::watch
