// What the watch daemon knows, shared between the scheduler, the signal thread and the HTTP
// workers: the profile in force, the last finished run and the counters behind /metrics.
// Readers take a snapshot (cheap: the report is shared, never copied) and render outside the lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cli/watch/schedule.hpp"
#include "cli/watch/state_changes.hpp"
#include "core/clock.hpp"
#include "core/report.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli::watch {

/// Results of /probe requests, as the gwprobe_watch_probe_requests_total label says them.
enum class ProbeOutcome { completed, unknown_check, busy, error };
std::string_view to_string(ProbeOutcome outcome) noexcept;

struct WatchCounters {
  std::uint64_t runs_ready = 0;
  std::uint64_t runs_degraded = 0;
  std::uint64_t runs_not_ready = 0;
  std::uint64_t run_errors = 0;  ///< runs that could not start (the plan was unusable)
  std::uint64_t overruns = 0;    ///< runs delayed because the previous one was still going
  core::Clock::duration last_lag{};
  std::uint64_t state_changes = 0;
  std::uint64_t history_errors = 0;
  std::uint64_t log_write_errors = 0;  ///< filled from the EventLog when rendering
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  bool last_reload_ok = true;
  std::chrono::system_clock::time_point last_reload_success{};  ///< start-up counts as one
  std::uint64_t probe_requests[4] = {0, 0, 0, 0};               ///< by ProbeOutcome
  std::size_t probes_in_flight = 0;

  std::uint64_t runs_total() const { return runs_ready + runs_degraded + runs_not_ready; }
};

struct WatchSnapshot {
  std::shared_ptr<const rules::Profile> profile;
  std::shared_ptr<const core::RunReport> last_report;  ///< null before the first run finished
  WatchCounters counters;
  ScheduleSettings schedule;
  std::chrono::milliseconds timeout_override{0};       ///< --timeout; 0 = the profile's
  std::chrono::system_clock::time_point started_at{};  ///< when the daemon started
  std::optional<core::Clock::time_point> run_in_progress_since;
};

class WatchState {
 public:
  WatchState(std::shared_ptr<const rules::Profile> profile, ScheduleSettings schedule,
             std::chrono::milliseconds timeout_override = std::chrono::milliseconds(0));

  std::shared_ptr<const rules::Profile> profile() const;
  WatchSnapshot snapshot() const;

  void reload_succeeded(std::shared_ptr<const rules::Profile> profile);
  void reload_failed();

  void run_started(core::Clock::time_point at);
  /// Stores a finished run as the last one and returns what changed since the previous one.
  std::vector<StateChange> run_finished(std::shared_ptr<const core::RunReport> report,
                                        const RunTiming& timing);
  /// A run that produced no report (unusable plan, or interrupted by shutdown).
  void run_abandoned(bool count_as_error);
  void history_failed();

  /// Takes a /probe slot unless `limit` are in flight (then counts a busy outcome).
  bool try_begin_probe(std::size_t limit);
  void end_probe(ProbeOutcome outcome);
  /// Counts an outcome for a request that never took a slot (unknown check, bad request).
  void count_probe(ProbeOutcome outcome);

 private:
  mutable std::mutex mutex_;
  WatchSnapshot state_;
};

/// /healthz's verdict: "starting" before the first run finished, "ok", or "stalled" when a
/// run has been going for longer than stall_limit().
struct Health {
  bool healthy = true;
  std::string status;  ///< "starting", "ok", "stalled"
};
Health health_of(const WatchSnapshot& snapshot, core::Clock::time_point now);

/// How long one run may take before /healthz calls the daemon stalled: three intervals plus
/// ten times the profile's per-check timeout (a run is a few layers of checks, each bounded by
/// that timeout, so only a hung host or a bug gets there).
core::Clock::duration stall_limit(const WatchSnapshot& snapshot);

}  // namespace gwprobe::cli::watch
