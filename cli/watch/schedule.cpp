// Schedule arithmetic and the loop that sleeps between runs.
#include "cli/watch/schedule.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace gwprobe::cli::watch {

core::Result<void> validate(const ScheduleSettings& settings) {
  if (settings.interval.count() <= 0) {
    return core::fail(core::FailureKind::invalid_input, "--interval: must be more than 0");
  }
  if (!(settings.jitter >= 0.0 && settings.jitter <= kMaxJitter)) {  // also rejects NaN
    return core::fail(core::FailureKind::invalid_input,
                      "--jitter: expected a fraction from 0 to 0.5 (0.1 = +/-10% per interval)");
  }
  return {};
}

Schedule::Schedule(ScheduleSettings settings, std::function<double()> uniform01)
    : settings_(settings), uniform01_(std::move(uniform01)) {}

core::Clock::duration Schedule::next_interval() {
  const double u = std::clamp(uniform01_ ? uniform01_() : 0.5, 0.0, 1.0);
  const double factor = 1.0 + settings_.jitter * (2.0 * u - 1.0);
  const auto base = std::chrono::duration_cast<core::Clock::duration>(settings_.interval);
  return std::chrono::duration_cast<core::Clock::duration>(
      std::chrono::duration<double, core::Clock::duration::period>(
          static_cast<double>(base.count()) * factor));
}

RunTiming Schedule::first(core::Clock::time_point now) {
  RunTiming t;
  t.sequence = 1;
  t.planned = now;
  t.started = now;
  return t;
}

RunTiming Schedule::after(const RunTiming& previous, core::Clock::time_point previous_end) {
  RunTiming t;
  t.sequence = previous.sequence + 1;
  t.planned = previous.started + next_interval();
  t.delayed_by_overrun = previous_end > t.planned;
  t.started = std::max(t.planned, previous_end);
  t.lag = t.started - t.planned;
  return t;
}

void run_schedule(core::Clock& clock, Schedule& schedule, const core::CancelToken& stop,
                  const std::function<void(const RunTiming&)>& run_once) {
  RunTiming timing = Schedule::first(clock.now());
  while (!stop.cancelled()) {
    if (!clock.sleep_until(timing.started, stop)) return;
    // The wake-up itself may be late (a loaded host): that lateness is lag too.
    const auto now = clock.now();
    timing.lag += std::max(now - timing.started, core::Clock::duration::zero());
    timing.started = std::max(now, timing.started);
    run_once(timing);
    timing = schedule.after(timing, clock.now());
  }
}

std::function<double()> random_uniform01() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace gwprobe::cli::watch
