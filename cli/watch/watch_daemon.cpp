// The daemon's wiring: schedule -> check pipeline -> state, log, history; HTTP routes; signals.
#include "cli/watch/watch_daemon.hpp"

#include <malloc.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "cli/command.hpp"
#include "cli/plan_builder.hpp"
#include "cli/profile_settings.hpp"
#include "cli/watch/metrics.hpp"
#include "cli/watch/process_stats.hpp"
#include "cli/watch/systemd_notify.hpp"
#include "core/duration.hpp"
#include "core/unique_fd.hpp"
#include "core/version.hpp"
#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/report_writer.hpp"
#include "rules/bgp/bgp_check.hpp"
#include "rules/diagnosis.hpp"

namespace gwprobe::cli::watch {
namespace {

/// glibc malloc arenas for the daemon. Every run starts fresh probe threads, and glibc would
/// give them up to 8 arenas per core, each keeping its freed pages: two keep the long-running
/// daemon's resident memory flat (see the soak benchmark) at no visible cost in speed.
constexpr int kMallocArenas = 2;

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
/// The HTML report's own policy, also sent as a header: nothing loads, nothing runs.
constexpr std::string_view kReportPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

HttpResponse text_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

std::string_view content_type_for(reports::ReportFormat format) {
  switch (format) {
    case reports::ReportFormat::json:
      return kJsonType;
    case reports::ReportFormat::html:
      return kHtmlType;
    case reports::ReportFormat::junit:
      return "application/xml; charset=utf-8";
    case reports::ReportFormat::markdown:
      return "text/markdown; charset=utf-8";
    case reports::ReportFormat::prometheus:
      return kMetricsType;
    case reports::ReportFormat::text:
      break;
  }
  return "text/plain; charset=utf-8";
}

HttpResponse report_response(const core::RunReport& report, reports::ReportFormat format) {
  HttpResponse r;
  r.content_type = std::string(content_type_for(format));
  r.body = reports::render_report(format, report);
  if (format == reports::ReportFormat::html) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kReportPolicy));
  }
  return r;
}

std::size_t plan_size(const rules::Profile& profile, const PlanSettings& settings) {
  auto plan = build_plan(profile, settings);
  return plan ? plan->size() : 0;
}

double seconds(std::chrono::milliseconds d) {
  return std::chrono::duration<double>(d).count();
}

/// The ExpressRoute check is not a probe in the plan: the pipeline evaluates it when the
/// profile names a geography and a route filter and --only allows it.
bool runs_bgp(const rules::Profile& profile, const PlanSettings& plan) {
  return !profile.bgp.geography.empty() && !profile.bgp.route_filter.empty() &&
         (plan.only_kinds.empty() || plan.only_kinds.count("bgp") > 0);
}

constexpr std::string_view kBgpPrefix = "bgp:";

/// apply_profile_settings for a daemon: a usage error becomes a Result, never an exit.
core::Result<void> apply_settings(const rules::Profile& profile, const WatchOptions& options,
                                  PlanSettings& plan, std::vector<core::Note>& notes) {
  try {
    apply_profile_settings(profile, options.proxy, plan, notes);
  } catch (const CliError& e) {
    return core::fail(core::FailureKind::invalid_input, e.what());
  }
  return {};
}

}  // namespace

core::Result<rules::Profile> load_watch_profile(const WatchOptions& options) {
  auto profile = rules::load_profile(options.profile);
  if (!profile) return core::fail(core::FailureKind::invalid_input, profile.error().describe());
  for (const auto& assignment : options.probe_hosts) {
    auto applied = rules::override_probe_host(*profile, assignment);
    if (!applied) return core::fail(applied.error());
  }
  PlanSettings settings = options.plan;
  std::vector<core::Note> notes;
  if (auto applied = apply_settings(*profile, options, settings, notes); !applied) {
    return core::fail(applied.error());
  }
  auto plan = build_plan(*profile, settings);
  if (!plan) return core::fail(plan.error());
  // What `check` refuses before running anything, watch refuses at start and on reload, rather
  // than failing every run: a route filter the profile names but that cannot be read.
  if (runs_bgp(*profile, options.plan)) {
    for (const auto& r : rules::bgp::evaluate_bgp_files(
             profile->bgp.geography, profile->bgp.route_filter, profile->bgp.routes)) {
      if (r.diagnosis == core::Diagnosis::probe_error) {
        return core::fail(core::FailureKind::invalid_input, "profile [bgp]: " + r.message);
      }
    }
  }
  return profile;
}

WatchDaemon::WatchDaemon(WatchOptions options, core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

WatchDaemon::~WatchDaemon() {
  request_stop();
  shutdown();
}

core::Result<std::unique_ptr<WatchDaemon>> WatchDaemon::create(const WatchOptions& options,
                                                               core::Clock& clock,
                                                               std::function<double()> uniform01) {
  if (auto valid = validate(options.schedule); !valid) return core::fail(valid.error());
  if (options.parallelism == 0) {
    return core::fail(core::FailureKind::invalid_input, "--parallel: must be at least 1");
  }
  if (options.probe_concurrency == 0 || options.probe_concurrency > kMaxProbeConcurrency) {
    return core::fail(core::FailureKind::invalid_input,
                      "--probe-concurrency: expected 1 to " + std::to_string(kMaxProbeConcurrency));
  }
  auto profile = load_watch_profile(options);
  if (!profile) return core::fail(profile.error());

  std::unique_ptr<WatchDaemon> daemon(new WatchDaemon(options, clock));
  // One HTTP worker more than /probe may occupy, so /metrics and /healthz always get through.
  daemon->options_.http.workers = std::max(options.http.workers, options.probe_concurrency + 2);
  daemon->schedule_ = std::make_unique<Schedule>(options.schedule, std::move(uniform01));
  daemon->history_ = std::make_unique<HistoryFile>(options.history);
  if (auto checked = daemon->history_->check(); !checked) return core::fail(checked.error());
  auto log = EventLog::open(options.state_log);
  if (!log) {
    return core::fail(core::FailureKind::io, "--state-log: " + log.error().message);
  }
  daemon->log_ = std::move(*log);
  daemon->state_ = std::make_unique<WatchState>(
      std::make_shared<const rules::Profile>(std::move(*profile)), options.schedule,
      options.plan.timeout.value_or(std::chrono::milliseconds(0)));
  auto server = HttpServer::start(
      daemon->options_.http, [d = daemon.get()](const HttpRequest& r) { return d->handle(r); });
  if (!server) return core::fail(server.error());
  daemon->server_ = std::move(*server);
  return daemon;
}

void WatchDaemon::request_stop() {
  stop_.cancel();
}

void WatchDaemon::shutdown() {
  if (server_) server_->stop();
}

core::Result<CheckRunSettings> WatchDaemon::run_settings(const rules::Profile& profile) const {
  CheckRunSettings settings;
  settings.plan = options_.plan;
  settings.parallelism = options_.parallelism;
  settings.strict = options_.strict;
  settings.cancel = stop_;
  settings.notes.push_back({"profile", profile.name + " (" + profile.source + ")"});
  if (auto applied = apply_settings(profile, options_, settings.plan, settings.notes); !applied) {
    return core::fail(applied.error());
  }
  return settings;
}

void WatchDaemon::run() {
  run_schedule(clock_, *schedule_, stop_, [this](const RunTiming& timing) { run_once(timing); });
}

void WatchDaemon::run_once(const RunTiming& timing) {
  state_->run_started(timing.started);
  const auto profile = state_->profile();
  auto settings = run_settings(*profile);
  auto report = settings ? run_check(*profile, *settings)
                         : core::Result<core::RunReport>(core::fail(settings.error()));
  if (!report) {
    state_->run_abandoned(true);
    log_->write("run_error", {{"error", report.error().describe()}});
    return;
  }
  if (report->interrupted && stop_.cancelled()) {
    state_->run_abandoned(false);  // shutting down: a partial run is no news about the path
    return;
  }
  auto shared = std::make_shared<const core::RunReport>(std::move(*report));
  const auto changes = state_->run_finished(shared, timing);
  for (const auto& change : changes) log_->write("state_change", state_change_fields(change));

  reports::WriteOptions compact;
  compact.compact = true;
  std::string line = reports::render_report(reports::ReportFormat::json, *shared, compact);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (auto appended = history_->append(line); !appended) {
    state_->history_failed();
    log_->write("history_error", {{"error", appended.error().message}});
  }
  const auto counts = reports::counts_of(*shared);
  notify_systemd("STATUS=" + std::string(reports::verdict_label(shared->verdict)) + ": " +
                 reports::counts_summary(counts, ", "));
}

void WatchDaemon::reload() {
  notify_systemd("RELOADING=1");
  auto loaded = load_watch_profile(options_);
  if (!loaded) {
    state_->reload_failed();
    log_->write("reload_failed", {{"profile", options_.profile},
                                  {"error", loaded.error().describe()},
                                  {"kept", state_->profile()->name}});
    if (!log_->is_stdout()) {
      std::fprintf(stderr, "gwprobe: reload failed, keeping the previous profile: %s\n",
                   loaded.error().describe().c_str());
    }
  } else {
    const std::size_t checks = plan_size(*loaded, options_.plan);
    nlohmann::ordered_json fields = {
        {"profile", loaded->name}, {"source", loaded->source}, {"checks", checks}};
    state_->reload_succeeded(std::make_shared<const rules::Profile>(std::move(*loaded)));
    log_->write("reload", fields);
  }
  if (auto reopened = log_->reopen(); !reopened) {
    std::fprintf(stderr, "gwprobe: --state-log: %s (still writing to the old file)\n",
                 reopened.error().message.c_str());
  }
  notify_systemd("READY=1");
}

HttpResponse WatchDaemon::handle(const HttpRequest& request) {
  if (request.path == "/metrics") return serve_metrics();
  if (request.path == "/probe") return serve_probe(request);
  if (request.path == "/healthz") return serve_health();
  if (request.path == "/report") return serve_report(request);
  if (request.path == "/") {
    HttpResponse r;
    r.content_type = std::string(kHtmlType);
    r.body =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gwprobe "
        "watch</title></head><body><h1>gwprobe watch</h1><ul>\n"
        "<li><a href=\"metrics\">/metrics</a>: the last run and the daemon, for Prometheus</li>\n"
        "<li><a href=\"report\">/report</a>: the last run as HTML (?format=json|text|...)</li>\n"
        "<li><a href=\"healthz\">/healthz</a>: is the scheduler alive</li>\n"
        "<li>/probe?check=ID: run one check now and return its metrics</li>\n"
        "</ul></body></html>\n";
    return r;
  }
  return text_response(404, "not found: try /metrics, /probe?check=ID, /healthz or /report");
}

HttpResponse WatchDaemon::serve_metrics() {
  HttpResponse r;
  r.content_type = std::string(kMetricsType);
  auto snapshot = state_->snapshot();
  snapshot.counters.log_write_errors = log_->failed_writes();
  r.body = render_metrics(snapshot, read_process_stats());
  return r;
}

HttpResponse WatchDaemon::serve_probe(const HttpRequest& request) {
  const auto id = request.query_value("check");
  if (!id || id->empty()) {
    return text_response(400,
                         "missing the check to run: /probe?check=ID (ids: /report?format=text)");
  }
  auto format = reports::parse_report_format(request.query_value("format").value_or("prometheus"));
  if (!format) return text_response(400, format.error().message);

  const auto profile = state_->profile();
  auto prepared = run_settings(*profile);
  if (!prepared) {
    state_->count_probe(ProbeOutcome::error);
    return text_response(500, prepared.error().message);
  }
  CheckRunSettings settings = std::move(*prepared);
  const bool bgp = id->rfind(kBgpPrefix, 0) == 0;
  const auto unknown = [&](const std::string& message) {
    state_->count_probe(ProbeOutcome::unknown_check);
    return text_response(404, message);
  };
  if (bgp) {
    // ExpressRoute results come from the route filter, not from planned probes: run that alone.
    if (!runs_bgp(*profile, settings.plan)) {
      return unknown("unknown check '" + *id + "': this profile runs no ExpressRoute check");
    }
    settings.plan.only_kinds = {"bgp"};
  } else {
    settings.plan.only_ids = {*id};
    // Planning is cheap and tells an unknown id apart before a slot is taken.
    if (auto plan = build_plan(*profile, settings.plan); !plan) {
      if (plan.error().kind == core::FailureKind::not_found) return unknown(plan.error().message);
      state_->count_probe(ProbeOutcome::error);
      return text_response(500, plan.error().message);
    }
  }
  if (!state_->try_begin_probe(options_.probe_concurrency)) {
    auto r = text_response(503, "busy: " + std::to_string(options_.probe_concurrency) +
                                    " on-demand checks are already running");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  auto report = run_check(*profile, settings);
  if (!report) {
    state_->end_probe(ProbeOutcome::error);
    return text_response(500, report.error().message);
  }
  // Only the asked-for check is reported; the checks it depends on ran only to reach it.
  std::vector<core::ProbeResult> kept;
  for (auto& r : report->results) {
    if (r.id == *id) kept.push_back(std::move(r));
  }
  if (kept.empty()) {
    state_->end_probe(ProbeOutcome::unknown_check);
    std::string known;
    for (const auto& r : report->results) known += (known.empty() ? "" : ", ") + r.id;
    return text_response(404, "unknown check '" + *id + "' (the profile's checks of that kind: " +
                                  (known.empty() ? "none" : known) + ")");
  }
  state_->end_probe(ProbeOutcome::completed);
  report->results = std::move(kept);
  report->findings = rules::diagnose(report->results, *profile);
  report->verdict = rules::verdict_for(report->results, options_.strict);
  report->counts = core::count_results(report->results);
  return report_response(*report, *format);
}

HttpResponse WatchDaemon::serve_health() {
  const auto snapshot = state_->snapshot();
  const auto health = health_of(snapshot, clock_.now());
  nlohmann::ordered_json body;
  body["status"] = health.status;
  body["profile"] = snapshot.profile ? snapshot.profile->name : "";
  body["runs"] = snapshot.counters.runs_total();
  body["run_in_progress"] = snapshot.run_in_progress_since.has_value();
  if (snapshot.last_report) {
    body["last_run_started_at"] = reports::rfc3339_utc(snapshot.last_report->started_at);
    body["last_verdict"] = core::to_string(snapshot.last_report->verdict);
  }
  HttpResponse r;
  r.status = health.healthy ? 200 : 503;
  r.content_type = std::string(kJsonType);
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse WatchDaemon::serve_report(const HttpRequest& request) {
  auto format = reports::parse_report_format(request.query_value("format").value_or("html"));
  if (!format) return text_response(400, format.error().message);
  const auto snapshot = state_->snapshot();
  if (!snapshot.last_report) {
    auto r = text_response(503, "no run has finished yet; the first one started at start-up");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return report_response(*snapshot.last_report, *format);
}

namespace {

/// Blocks the signals watch handles in this thread and every thread it starts afterwards, and
/// restores the old mask when done.
class SignalBlock {
 public:
  explicit SignalBlock(std::initializer_list<int> signals) {
    sigemptyset(&set_);
    for (const int s : signals) sigaddset(&set_, s);
    ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalBlock() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_{};
  sigset_t old_{};
};

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace

int run_watch(const WatchOptions& options) {
  ::mallopt(M_ARENA_MAX, kMallocArenas);
  // A reader of the state log that goes away (`gwprobe watch | head`, a restarted log
  // collector) must cost an event line, not the daemon: writes then fail with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  // Before any thread exists, so that every thread inherits the mask and only the signalfd
  // sees these signals.
  SignalBlock blocked({SIGHUP, SIGINT, SIGTERM});
  core::UniqueFd signals(::signalfd(-1, &blocked.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) {
    throw CliError(exit_code::internal, std::string("signalfd: ") + std::strerror(errno));
  }

  core::SteadyClockSource clock;
  auto daemon = WatchDaemon::create(options, clock, random_uniform01());
  if (!daemon) usage_error(daemon.error().describe());
  auto& d = **daemon;
  const auto profile = d.state().profile();
  d.log().write("start", {{"version", core::kVersion},
                          {"pid", static_cast<long long>(::getpid())},
                          {"profile", profile->name},
                          {"profile_source", profile->source},
                          {"checks", plan_size(*profile, options.plan)},
                          {"listen", d.address()},
                          {"interval_seconds", seconds(options.schedule.interval)},
                          {"jitter", options.schedule.jitter},
                          {"history", options.history.path}});
  std::fprintf(stderr, "gwprobe: watching profile '%s' every %s; metrics on http://%s/metrics\n",
               profile->name.c_str(), core::format_duration(options.schedule.interval).c_str(),
               d.address().c_str());
  notify_systemd("READY=1");

  std::atomic<int> stop_signal{0};
  core::CancelToken finished;
  std::thread signal_thread([&] {
    for (;;) {
      pollfd fds[2] = {{signals.get(), POLLIN, 0}, {finished.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (finished.cancelled()) return;
      signalfd_siginfo info{};
      while (::read(signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGHUP) {
          if (stop_signal.load() == 0) d.reload();
          continue;
        }
        if (stop_signal.exchange(sig) != 0) {
          // A second Ctrl-C: the user does not want to wait for the clean stop.
          std::_Exit(exit_code::interrupted);
        }
        notify_systemd("STOPPING=1");
        d.request_stop();
      }
    }
  });

  d.run();
  d.shutdown();
  finished.cancel();
  signal_thread.join();
  const auto counters = d.state().snapshot().counters;
  d.log().write("stop",
                {{"reason", signal_name(stop_signal.load())}, {"runs", counters.runs_total()}});
  return exit_code::ready;
}

}  // namespace gwprobe::cli::watch
