// /metrics: strictly parsed, checked with promtool, and the daemon's families by value; the
// health rule by times.
#include "cli/watch/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "reports/testdata/sample_report.hpp"
#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::cli::watch {
namespace {
using namespace std::chrono_literals;

WatchSnapshot snapshot_with_report() {
  auto profile = std::make_shared<rules::Profile>();
  profile->name = "contoso \"branch\"";
  profile->idle.required = std::chrono::seconds(300);
  profile->timeout = 5s;
  WatchState state(profile, {60s, 0.1});
  RunTiming timing;
  timing.lag = 1500ms;
  timing.delayed_by_overrun = true;
  (void)state.run_finished(
      std::make_shared<const core::RunReport>(reports::testdata::sample_report()), timing);
  state.reload_failed();
  (void)state.try_begin_probe(4);
  state.end_probe(ProbeOutcome::completed);
  state.count_probe(ProbeOutcome::unknown_check);
  state.history_failed();
  return state.snapshot();
}

testing::Exposition parse(const std::string& text) {
  auto parsed = testing::parse_exposition(text);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << *error << "\n" << text;
    return {};
  }
  return std::get<testing::Exposition>(parsed);
}

double value(const testing::Exposition& x, const std::string& name,
             const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : x.samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  ADD_FAILURE() << "no sample " << name;
  return -1;
}

TEST(WatchMetrics, CombineTheLastRunWithTheDaemonsOwnFamiliesInOneValidExposition) {
  const auto x = parse(render_metrics(snapshot_with_report(), read_process_stats()));
  std::set<std::string> names;
  for (const auto& s : x.samples) names.insert(s.name);
  for (const char* name :
       {"gwprobe_check_success", "gwprobe_check_duration_seconds", "gwprobe_phase_seconds",
        "gwprobe_tls_cert_expiry_timestamp_seconds", "gwprobe_idle_cut_seconds",
        "gwprobe_diagnosis_info", "gwprobe_run_timestamp_seconds", "gwprobe_run_duration_seconds",
        "gwprobe_watch_runs_total", "gwprobe_watch_scheduler_lag_seconds",
        "gwprobe_watch_overruns_total", "gwprobe_watch_reloads_total",
        "gwprobe_watch_probe_requests_total", "gwprobe_idle_required_seconds",
        "process_resident_memory_bytes", "process_open_fds"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  for (const auto& name : names) {
    const std::string type = x.types.count(name) ? x.types.at(name) : "";
    const bool is_counter = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    EXPECT_EQ(type, is_counter ? "counter" : "gauge") << name;
  }
}

TEST(WatchMetrics, CountRunsLagReloadsProbesAndHistoryErrors) {
  const auto x = parse(render_daemon_metrics(snapshot_with_report(), {}));
  EXPECT_EQ(value(x, "gwprobe_watch_runs_total", {{"verdict", "not_ready"}}), 1);
  EXPECT_EQ(value(x, "gwprobe_watch_runs_total", {{"verdict", "ready"}}), 0);
  EXPECT_EQ(value(x, "gwprobe_watch_overruns_total"), 1);
  EXPECT_DOUBLE_EQ(value(x, "gwprobe_watch_scheduler_lag_seconds"), 1.5);
  EXPECT_EQ(value(x, "gwprobe_watch_interval_seconds"), 60);
  EXPECT_DOUBLE_EQ(value(x, "gwprobe_watch_jitter_ratio"), 0.1);
  EXPECT_EQ(value(x, "gwprobe_watch_reloads_total", {{"result", "failure"}}), 1);
  EXPECT_EQ(value(x, "gwprobe_watch_config_last_reload_successful"), 0);
  EXPECT_EQ(value(x, "gwprobe_watch_probe_requests_total", {{"outcome", "completed"}}), 1);
  EXPECT_EQ(value(x, "gwprobe_watch_probe_requests_total", {{"outcome", "unknown_check"}}), 1);
  EXPECT_EQ(value(x, "gwprobe_watch_probes_in_flight"), 0);
  EXPECT_EQ(value(x, "gwprobe_watch_history_write_errors_total"), 1);
  EXPECT_EQ(value(x, "gwprobe_watch_profile_info", {{"profile", "contoso \"branch\""}}), 1);
  EXPECT_EQ(value(x, "gwprobe_idle_required_seconds"), 300);
}

TEST(WatchMetrics, BeforeTheFirstRunOnlyTheDaemonIsDescribed) {
  WatchState state(std::make_shared<rules::Profile>(), {1s, 0.0});
  const auto text = render_metrics(state.snapshot(), read_process_stats());
  const auto x = parse(text);
  EXPECT_EQ(text.find("gwprobe_check_success"), std::string::npos);
  EXPECT_EQ(value(x, "gwprobe_watch_runs_total", {{"verdict", "ready"}}), 0);
  EXPECT_GT(value(x, "process_resident_memory_bytes"), 0);
  EXPECT_GT(value(x, "process_open_fds"), 0);
}

TEST(WatchMetrics, PassPromtoolCheckMetricsWithoutRemarks) {
  if (::access("/usr/bin/promtool", X_OK) != 0) {
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/promtool is not installed (Debian package "
                    "prometheus; scripts/setup.sh installs it); the strict parser still ran";
  }
  testing::ProcessOptions options;
  options.stdin_data = render_metrics(snapshot_with_report(), read_process_stats());
  const auto r = testing::run_process({"/usr/bin/promtool", "check", "metrics"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "");
}

TEST(ProcessStats, SeeThisProcesssMemoryAndDescriptors) {
  const auto before = read_process_stats();
  EXPECT_GT(before.resident_bytes, 0u);
  EXPECT_GE(before.virtual_bytes, before.resident_bytes);
  EXPECT_GT(before.max_fds, 0u);
  const int extra = ::dup(0);
  ASSERT_GE(extra, 0);
  EXPECT_EQ(read_process_stats().open_fds, before.open_fds + 1);
  ::close(extra);
  EXPECT_EQ(read_process_stats().open_fds, before.open_fds);
}

TEST(Health, StartsOkTurnsStalledWhenARunOutlastsTheLimitAndRecovers) {
  auto profile = std::make_shared<rules::Profile>();
  profile->timeout = 5s;
  WatchState state(profile, {60s, 0.0});
  core::ManualClock clock;
  EXPECT_EQ(health_of(state.snapshot(), clock.now()).status, "starting");
  EXPECT_EQ(stall_limit(state.snapshot()), 3 * 60s + 10 * 5s);
  state.run_started(clock.now());
  clock.advance(3 * 60s + 10 * 5s);
  EXPECT_TRUE(health_of(state.snapshot(), clock.now()).healthy) << "exactly at the limit";
  clock.advance(1s);
  const auto stalled = health_of(state.snapshot(), clock.now());
  EXPECT_FALSE(stalled.healthy);
  EXPECT_EQ(stalled.status, "stalled");
  (void)state.run_finished(std::make_shared<const core::RunReport>(), RunTiming{});
  EXPECT_EQ(health_of(state.snapshot(), clock.now()).status, "ok");
}

TEST(Health, ATimeoutOverrideSetsTheStallLimit) {
  auto profile = std::make_shared<rules::Profile>();
  profile->timeout = 5s;
  WatchState state(profile, {10s, 0.0}, 30s);
  EXPECT_EQ(stall_limit(state.snapshot()), 3 * 10s + 10 * 30s);
}

TEST(ProbeSlots, AreBoundedAndCountedWhenRefused) {
  WatchState state(std::make_shared<rules::Profile>(), {1s, 0.0});
  EXPECT_TRUE(state.try_begin_probe(2));
  EXPECT_TRUE(state.try_begin_probe(2));
  EXPECT_FALSE(state.try_begin_probe(2));
  EXPECT_EQ(state.snapshot().counters.probes_in_flight, 2u);
  state.end_probe(ProbeOutcome::completed);
  EXPECT_TRUE(state.try_begin_probe(2));
  const auto c = state.snapshot().counters;
  EXPECT_EQ(c.probe_requests[static_cast<int>(ProbeOutcome::busy)], 1u);
  EXPECT_EQ(c.probe_requests[static_cast<int>(ProbeOutcome::completed)], 1u);
}

}  // namespace
}  // namespace gwprobe::cli::watch
