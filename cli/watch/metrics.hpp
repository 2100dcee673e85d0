// /metrics: the last run in the same exposition as `check --format prometheus`, followed by the
// daemon's own families (run counters, scheduler lag, reloads, /probe requests) and the
// standard process_* gauges.
#pragma once

#include <string>

#include "cli/watch/process_stats.hpp"
#include "cli/watch/watch_state.hpp"

namespace gwprobe::cli::watch {

/// The whole /metrics body (text exposition format 0.0.4).
std::string render_metrics(const WatchSnapshot& snapshot, const ProcessStats& process);

/// The gwprobe_watch_* and process_* families alone (what render_metrics appends).
std::string render_daemon_metrics(const WatchSnapshot& snapshot, const ProcessStats& process);

}  // namespace gwprobe::cli::watch
