// The daemon's metric families. Counters end in _total; every family has HELP and TYPE; the
// label values are fixed words, so nothing here needs escaping beyond the profile name.
#include "cli/watch/metrics.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "reports/escape.hpp"
#include "reports/report_writer.hpp"

namespace gwprobe::cli::watch {
namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1e3;
}

double seconds(core::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

class Families {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, reports::prometheus_help(help), name,
                        type);
    name_ = name;
  }
  void sample(double value, std::string_view labels = {}) {
    out_ += name_;
    if (!labels.empty()) out_ += fmt::format("{{{}}}", labels);
    out_ += ' ' + number(value) + '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

}  // namespace

std::string render_daemon_metrics(const WatchSnapshot& s, const ProcessStats& process) {
  const auto& c = s.counters;
  Families f;
  f.family("gwprobe_watch_runs_total", "counter",
           "Scheduled runs finished since start, by the run's verdict.");
  f.sample(static_cast<double>(c.runs_ready), "verdict=\"ready\"");
  f.sample(static_cast<double>(c.runs_degraded), "verdict=\"degraded\"");
  f.sample(static_cast<double>(c.runs_not_ready), "verdict=\"not_ready\"");
  f.family("gwprobe_watch_run_errors_total", "counter",
           "Scheduled runs that could not start (the profile gave an unusable plan).");
  f.sample(static_cast<double>(c.run_errors));
  f.family("gwprobe_watch_overruns_total", "counter",
           "Runs that started late because the previous run outlasted the interval.");
  f.sample(static_cast<double>(c.overruns));
  f.family("gwprobe_watch_scheduler_lag_seconds", "gauge",
           "How late the last run started compared with its planned time.");
  f.sample(seconds(c.last_lag));
  f.family("gwprobe_watch_interval_seconds", "gauge", "The configured interval between runs.");
  f.sample(std::chrono::duration<double>(s.schedule.interval).count());
  f.family("gwprobe_watch_jitter_ratio", "gauge",
           "The configured jitter: each interval is drawn from interval x [1-j, 1+j].");
  f.sample(s.schedule.jitter);
  f.family("gwprobe_watch_run_in_progress", "gauge", "1 while a scheduled run is going on.");
  f.sample(s.run_in_progress_since ? 1 : 0);
  f.family("gwprobe_watch_state_changes_total", "counter",
           "Checks whose status or diagnosis changed from one run to the next.");
  f.sample(static_cast<double>(c.state_changes));
  f.family("gwprobe_watch_history_write_errors_total", "counter",
           "Runs that could not be appended to the history file.");
  f.sample(static_cast<double>(c.history_errors));
  f.family("gwprobe_watch_event_log_write_errors_total", "counter",
           "Events that could not be written to the --state-log (a closed pipe, a full disk).");
  f.sample(static_cast<double>(c.log_write_errors));
  f.family("gwprobe_watch_reloads_total", "counter", "Profile reloads (SIGHUP), by result.");
  f.sample(static_cast<double>(c.reloads_ok), "result=\"success\"");
  f.sample(static_cast<double>(c.reloads_failed), "result=\"failure\"");
  f.family("gwprobe_watch_config_last_reload_successful", "gauge",
           "1 when the last reload succeeded (or none was tried); 0 while a bad profile is kept "
           "out.");
  f.sample(c.last_reload_ok ? 1 : 0);
  f.family("gwprobe_watch_config_last_reload_success_timestamp_seconds", "gauge",
           "When the profile in force was loaded, in seconds since the epoch.");
  f.sample(unix_seconds(c.last_reload_success));
  f.family("gwprobe_watch_probe_requests_total", "counter",
           "On-demand /probe requests, by outcome (completed: the check ran, whatever it found).");
  for (const auto outcome : {ProbeOutcome::completed, ProbeOutcome::unknown_check,
                             ProbeOutcome::busy, ProbeOutcome::error}) {
    f.sample(static_cast<double>(c.probe_requests[static_cast<int>(outcome)]),
             fmt::format("outcome=\"{}\"", to_string(outcome)));
  }
  f.family("gwprobe_watch_probes_in_flight", "gauge", "On-demand /probe checks running now.");
  f.sample(static_cast<double>(c.probes_in_flight));
  if (s.profile) {
    f.family("gwprobe_watch_profile_info", "gauge",
             "The profile in force (always 1); it may differ from gwprobe_run_info's until the "
             "next run after a reload.");
    f.sample(1, "profile=\"" + reports::prometheus_label_value(s.profile->name) + "\"");
    f.family("gwprobe_idle_required_seconds", "gauge",
             "Idle time the profile requires the path to survive ([idle] required).");
    f.sample(static_cast<double>(s.profile->idle.required.count()));
  }
  f.family("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
  f.sample(unix_seconds(s.started_at));
  f.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  f.sample(static_cast<double>(process.resident_bytes));
  f.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  f.sample(static_cast<double>(process.virtual_bytes));
  f.family("process_open_fds", "gauge", "Number of open file descriptors.");
  f.sample(static_cast<double>(process.open_fds));
  f.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  f.sample(static_cast<double>(process.max_fds));
  f.family("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
  f.sample(process.cpu_seconds);
  return f.take();
}

std::string render_metrics(const WatchSnapshot& snapshot, const ProcessStats& process) {
  std::string out;
  if (snapshot.last_report) {
    out = reports::render_report(reports::ReportFormat::prometheus, *snapshot.last_report);
  }
  out += render_daemon_metrics(snapshot, process);
  return out;
}

}  // namespace gwprobe::cli::watch
