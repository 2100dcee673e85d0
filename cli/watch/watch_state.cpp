// The shared daemon state behind one mutex.
#include "cli/watch/watch_state.hpp"

namespace gwprobe::cli::watch {

namespace {
constexpr int kStallIntervals = 3;
constexpr int kStallTimeouts = 10;
}  // namespace

std::string_view to_string(ProbeOutcome outcome) noexcept {
  switch (outcome) {
    case ProbeOutcome::completed:
      return "completed";
    case ProbeOutcome::unknown_check:
      return "unknown_check";
    case ProbeOutcome::busy:
      return "busy";
    case ProbeOutcome::error:
      return "error";
  }
  return "error";
}

WatchState::WatchState(std::shared_ptr<const rules::Profile> profile, ScheduleSettings schedule,
                       std::chrono::milliseconds timeout_override) {
  state_.profile = std::move(profile);
  state_.schedule = schedule;
  state_.timeout_override = timeout_override;
  state_.started_at = std::chrono::system_clock::now();
  state_.counters.last_reload_success = state_.started_at;
}

std::shared_ptr<const rules::Profile> WatchState::profile() const {
  std::lock_guard lock(mutex_);
  return state_.profile;
}

WatchSnapshot WatchState::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void WatchState::reload_succeeded(std::shared_ptr<const rules::Profile> profile) {
  std::lock_guard lock(mutex_);
  state_.profile = std::move(profile);
  ++state_.counters.reloads_ok;
  state_.counters.last_reload_ok = true;
  state_.counters.last_reload_success = std::chrono::system_clock::now();
}

void WatchState::reload_failed() {
  std::lock_guard lock(mutex_);
  ++state_.counters.reloads_failed;
  state_.counters.last_reload_ok = false;
}

void WatchState::run_started(core::Clock::time_point at) {
  std::lock_guard lock(mutex_);
  state_.run_in_progress_since = at;
}

std::vector<StateChange> WatchState::run_finished(std::shared_ptr<const core::RunReport> report,
                                                  const RunTiming& timing) {
  std::lock_guard lock(mutex_);
  auto changes = state_changes(state_.last_report.get(), *report);
  auto& c = state_.counters;
  switch (report->verdict) {
    case core::Verdict::ready:
      ++c.runs_ready;
      break;
    case core::Verdict::degraded:
      ++c.runs_degraded;
      break;
    case core::Verdict::not_ready:
      ++c.runs_not_ready;
      break;
  }
  if (timing.delayed_by_overrun) ++c.overruns;
  c.last_lag = timing.lag;
  c.state_changes += changes.size();
  state_.last_report = std::move(report);
  state_.run_in_progress_since.reset();
  return changes;
}

void WatchState::run_abandoned(bool count_as_error) {
  std::lock_guard lock(mutex_);
  if (count_as_error) ++state_.counters.run_errors;
  state_.run_in_progress_since.reset();
}

void WatchState::history_failed() {
  std::lock_guard lock(mutex_);
  ++state_.counters.history_errors;
}

bool WatchState::try_begin_probe(std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (state_.counters.probes_in_flight >= limit) {
    ++state_.counters.probe_requests[static_cast<int>(ProbeOutcome::busy)];
    return false;
  }
  ++state_.counters.probes_in_flight;
  return true;
}

void WatchState::end_probe(ProbeOutcome outcome) {
  std::lock_guard lock(mutex_);
  --state_.counters.probes_in_flight;
  ++state_.counters.probe_requests[static_cast<int>(outcome)];
}

void WatchState::count_probe(ProbeOutcome outcome) {
  std::lock_guard lock(mutex_);
  ++state_.counters.probe_requests[static_cast<int>(outcome)];
}

core::Clock::duration stall_limit(const WatchSnapshot& snapshot) {
  auto timeout = snapshot.profile ? snapshot.profile->timeout : std::chrono::milliseconds(0);
  if (snapshot.timeout_override.count() > 0) timeout = snapshot.timeout_override;
  return std::chrono::duration_cast<core::Clock::duration>(
      kStallIntervals * snapshot.schedule.interval + kStallTimeouts * timeout);
}

Health health_of(const WatchSnapshot& snapshot, core::Clock::time_point now) {
  if (snapshot.run_in_progress_since &&
      now - *snapshot.run_in_progress_since > stall_limit(snapshot)) {
    return {false, "stalled"};
  }
  if (!snapshot.last_report) return {true, "starting"};
  return {true, "ok"};
}

}  // namespace gwprobe::cli::watch
