// The watch daemon: the schedule runs the profile's checks through the `check` pipeline, keeps
// the last run, logs state changes and history, and serves /metrics, /probe, /healthz and
// /report. run_watch() adds the process part: signals, systemd notification, exit code.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/check_run.hpp"
#include "cli/proxy_flags.hpp"
#include "cli/watch/event_log.hpp"
#include "cli/watch/history.hpp"
#include "cli/watch/http_server.hpp"
#include "cli/watch/schedule.hpp"
#include "cli/watch/watch_state.hpp"
#include "core/cancel.hpp"
#include "core/clock.hpp"

namespace gwprobe::cli::watch {

struct WatchOptions {
  std::string profile = "local";         ///< embedded name or file; reloaded from here on SIGHUP
  std::vector<std::string> probe_hosts;  ///< --probe-host PATTERN=HOST, applied on every load
  PlanSettings plan;                     ///< --only, --timeout, --resolver, resolver files
  ProxyFlags proxy;  ///< --proxy & co., resolved with each loaded profile's [proxy]
  std::size_t parallelism = 128;
  bool strict = false;
  ScheduleSettings schedule;
  HttpServerOptions http;
  HistorySettings history;
  std::string state_log = "-";        ///< "-" = stdout, "" = none, or a file
  std::size_t probe_concurrency = 4;  ///< /probe checks running at once; more get 503
};

/// /probe limits: at least one on-demand check, and always an HTTP worker left for /metrics.
inline constexpr std::size_t kMaxProbeConcurrency = 64;

/// Loads the profile as `check` does, applies the --probe-host overrides, resolves the proxy
/// (flags, the profile's [proxy], the environment) and builds the plan once to catch what only
/// planning finds (an unknown --only kind). Errors are one line.
core::Result<rules::Profile> load_watch_profile(const WatchOptions& options);

class WatchDaemon {
 public:
  /// Validates the options, loads the profile, opens the event log and the history, and starts
  /// the HTTP server. invalid_input/not_found for bad input, io for files and the listener.
  static core::Result<std::unique_ptr<WatchDaemon>> create(const WatchOptions& options,
                                                           core::Clock& clock,
                                                           std::function<double()> uniform01);
  ~WatchDaemon();
  WatchDaemon(const WatchDaemon&) = delete;
  WatchDaemon& operator=(const WatchDaemon&) = delete;

  /// Runs the schedule on this thread until request_stop(); a run in progress is cancelled.
  void run();
  /// Thread-safe; wakes run() and cancels running checks (scheduled and on demand).
  void request_stop();
  /// SIGHUP: reloads the profile; a bad one is logged and the old one kept. Reopens the log.
  void reload();
  /// Stops the HTTP server (after run() returned). Idempotent; the destructor calls it too.
  void shutdown();

  /// The endpoints, as the HTTP server calls them.
  HttpResponse handle(const HttpRequest& request);

  const std::string& address() const { return server_->address(); }
  EventLog& log() { return *log_; }
  WatchState& state() { return *state_; }

 private:
  WatchDaemon(WatchOptions options, core::Clock& clock);
  void run_once(const RunTiming& timing);
  /// The run's settings for `profile`; fails (invalid_input) when the proxy cannot be resolved
  /// any more (its password file went away since the profile was loaded).
  core::Result<CheckRunSettings> run_settings(const rules::Profile& profile) const;
  HttpResponse serve_metrics();
  HttpResponse serve_probe(const HttpRequest& request);
  HttpResponse serve_health();
  HttpResponse serve_report(const HttpRequest& request);

  WatchOptions options_;
  core::Clock& clock_;
  core::CancelToken stop_;
  std::unique_ptr<Schedule> schedule_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<HistoryFile> history_;
  std::unique_ptr<WatchState> state_;
  std::unique_ptr<HttpServer> server_;
};

/// `gwprobe watch`: blocks SIGHUP/SIGINT/SIGTERM (handled on a signalfd thread), runs the
/// daemon until SIGTERM or SIGINT, and returns 0 after a clean stop. A second SIGINT/SIGTERM
/// while stopping exits at once with 130. Start-up errors throw CliError (exit 2).
int run_watch(const WatchOptions& options);

}  // namespace gwprobe::cli::watch
