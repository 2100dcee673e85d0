// The daemon in-process against loopback sockets: start-up errors, every endpoint, the run loop
// on the real clock, reloads, and /probe's concurrency bound.
#include "cli/watch/watch_daemon.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/fixtures/accepting_listener.hpp"
#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/tls_server.hpp"

namespace gwprobe::cli::watch {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

std::string loop_profile(const testing::ScratchDir& dir, const std::string& ports,
                         const std::string& name = "loop", const std::string& timeout = "2s") {
  return dir.write(name + ".toml", "name = \"" + name + "\"\ntimeout = \"" + timeout +
                                       "\"\n[dns]\nprivate_answers_expected = true\n"
                                       "[[endpoint]]\nname = \"Loopback\"\nhost = \"127.0.0.1\"\n"
                                       "ports = [" +
                                       ports + "]\n");
}

std::vector<json> read_events(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> events;
  std::string line;
  while (std::getline(in, line)) events.push_back(json::parse(line));
  return events;
}

HttpRequest get(const std::string& target) {
  auto parsed = parse_request_head("GET " + target + " HTTP/1.1\r\n\r\n");
  return std::get<HttpRequest>(parsed);
}

class Daemon : public ::testing::Test {
 protected:
  WatchOptions options(const std::string& profile) {
    WatchOptions o;
    o.profile = profile;
    o.schedule = {50ms, 0.0};
    o.http.listen = "127.0.0.1:0";
    o.state_log = dir_.path() + "/events.jsonl";
    o.plan.resolver.hosts_file = "";
    return o;
  }
  std::unique_ptr<WatchDaemon> create(const WatchOptions& o) {
    auto daemon = WatchDaemon::create(o, clock_, random_uniform01());
    EXPECT_TRUE(daemon.has_value()) << daemon.error().message;
    return daemon ? std::move(*daemon) : nullptr;
  }
  /// Runs the schedule on a thread until `done` holds for the state (bounded), then stops it.
  void run_until(WatchDaemon& d, const std::function<bool(const WatchSnapshot&)>& done) {
    std::thread runner([&] { d.run(); });
    for (int i = 0; i < 1000 && !done(d.state().snapshot()); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    d.request_stop();
    runner.join();
    EXPECT_TRUE(done(d.state().snapshot())) << "condition not reached within 10 s";
  }
  std::vector<json> events() { return read_events(dir_.path() + "/events.jsonl"); }

  testing::ScratchDir dir_;
  core::SteadyClockSource clock_;
};

struct BadStart {
  std::function<void(WatchOptions&)> change;
  const char* message;
};

TEST_F(Daemon, RefusesToStartOnBadInputWithOneLine) {
  testing::AcceptingListener open;
  const auto good = loop_profile(dir_, std::to_string(open.port()));
  const auto broken = dir_.write("broken.toml", "name = \"x\"\n[[endpoint]]\nname = 3\n");
  auto in_use =
      HttpServer::start({"127.0.0.1:0"}, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(in_use.has_value());
  const std::string taken = (*in_use)->address();
  const BadStart bad[] = {
      {[](WatchOptions& o) { o.schedule.interval = 0ms; }, "--interval: must be more than 0"},
      {[](WatchOptions& o) { o.schedule.jitter = 0.9; }, "--jitter: expected a fraction"},
      {[&](WatchOptions& o) { o.profile = broken; }, "broken.toml:3:"},
      {[](WatchOptions& o) { o.profile = "nosuch"; }, "unknown profile 'nosuch'"},
      {[](WatchOptions& o) { o.probe_hosts = {"*.nomatch.example=x.example"}; }, "*.nomatch"},
      {[](WatchOptions& o) { o.plan.only_kinds = {"icmp"}; }, "unknown check kind 'icmp'"},
      {[](WatchOptions& o) { o.http.listen = "gateway.example:9469"; }, "--listen: bad address"},
      {[&](WatchOptions& o) { o.http.listen = taken; }, "Address already in use"},
      {[](WatchOptions& o) { o.history.path = "/nonexistent-gwprobe/h.jsonl"; }, "--history:"},
      {[](WatchOptions& o) { o.state_log = "/nonexistent-gwprobe/e.log"; }, "--state-log:"},
      {[](WatchOptions& o) { o.probe_concurrency = 0; }, "--probe-concurrency: expected 1 to"},
      {[](WatchOptions& o) { o.parallelism = 0; }, "--parallel: must be at least 1"},
  };
  for (const auto& b : bad) {
    auto o = options(good);
    b.change(o);
    auto daemon = WatchDaemon::create(o, clock_, random_uniform01());
    ASSERT_FALSE(daemon.has_value()) << b.message;
    EXPECT_NE(daemon.error().describe().find(b.message), std::string::npos)
        << daemon.error().describe();
    EXPECT_EQ(daemon.error().describe().find('\n'), std::string::npos);
  }
}

TEST_F(Daemon, BeforeTheFirstRunSaysSoOnEveryEndpoint) {
  testing::AcceptingListener open;
  auto d = create(options(loop_profile(dir_, std::to_string(open.port()))));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->handle(get("/report")).status, 503);
  const auto health = d->handle(get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["status"], "starting");
  const auto metrics = d->handle(get("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics.body.find("gwprobe_check_success"), std::string::npos);
  EXPECT_NE(metrics.body.find("gwprobe_watch_runs_total{verdict=\"ready\"} 0"), std::string::npos);
  EXPECT_EQ(d->handle(get("/")).status, 200);
  EXPECT_EQ(d->handle(get("/nothing-here")).status, 404);
}

TEST_F(Daemon, RunsOnScheduleAndServesTheLastRunAsMetricsReportAndHistory) {
  testing::AcceptingListener open;
  testing::LoopbackSocket closed("127.0.0.1", -1);
  auto o =
      options(loop_profile(dir_, std::to_string(open.port()) + ", " + std::to_string(closed.port)));
  o.history.path = dir_.path() + "/history.jsonl";
  auto d = create(o);
  ASSERT_TRUE(d);
  run_until(*d, [](const WatchSnapshot& s) { return s.counters.runs_total() >= 3; });

  const auto metrics = d->handle(get("/metrics"));
  auto parsed = testing::parse_exposition(metrics.body);
  ASSERT_TRUE(std::holds_alternative<testing::Exposition>(parsed)) << std::get<std::string>(parsed);
  const std::string open_id = "tcp:127.0.0.1:" + std::to_string(open.port());
  const std::string closed_id = "tcp:127.0.0.1:" + std::to_string(closed.port);
  int seen = 0;
  for (const auto& s : std::get<testing::Exposition>(parsed).samples) {
    if (s.name != "gwprobe_check_success") continue;
    ++seen;
    EXPECT_EQ(s.labels.at("kind"), "tcp");
    EXPECT_EQ(s.value, s.labels.at("check") == open_id ? 1 : 0) << s.labels.at("check");
  }
  EXPECT_EQ(seen, 2);

  const auto report = d->handle(get("/report"));
  EXPECT_EQ(report.status, 200);
  EXPECT_EQ(report.content_type, "text/html; charset=utf-8");
  EXPECT_NE(report.body.find("NOT READY"), std::string::npos);
  EXPECT_NE(report.body.find(closed_id), std::string::npos);
  bool has_policy = false;
  for (const auto& [name, value] : report.headers) {
    has_policy = has_policy ||
                 (name == "Content-Security-Policy" && value.find("default-src "
                                                                  "'none'") != std::string::npos);
  }
  EXPECT_TRUE(has_policy);
  const auto as_json = json::parse(d->handle(get("/report?format=json")).body);
  EXPECT_EQ(as_json["schema"], "gwprobe.report/v1");
  EXPECT_EQ(d->handle(get("/report?format=yaml")).status, 400);
  EXPECT_EQ(json::parse(d->handle(get("/healthz")).body)["status"], "ok");

  std::ifstream history(o.history.path);
  std::string line;
  int lines = 0;
  while (std::getline(history, line)) {
    const auto run = json::parse(line);
    EXPECT_EQ(run["schema"], "gwprobe.report/v1");
    EXPECT_EQ(run["results"].size(), 2u);
    ++lines;
  }
  EXPECT_EQ(lines, static_cast<int>(d->state().snapshot().counters.runs_total()));

  // The refused port was logged once, as a first sighting; nothing changed afterwards.
  int changes = 0;
  for (const auto& e : events()) {
    if (e["event"] != "state_change") continue;
    ++changes;
    EXPECT_EQ(e["check"], closed_id);
    EXPECT_TRUE(e["from"].is_null());
    EXPECT_EQ(e["to_code"], "TCP_REFUSED");
  }
  EXPECT_EQ(changes, 1);
}

TEST_F(Daemon, MetricsCarryTheTlsFactsTheAlertsAndTheDashboardUse) {
  // An expiring chain on one port, a re-signed (intercepted) one on another: what
  // GwprobeCertificateExpiringSoon and GwprobeTlsIntercepted look for, from real TLS checks.
  const auto& pki = testing::TestPki::get();
  testing::TlsServerConfig expiring;
  expiring.chain = {pki.expiring_leaf, pki.public_intermediate};
  testing::TlsServerConfig intercepted;
  intercepted.chain = {pki.corporate_leaf};
  testing::TlsServer expiring_server(expiring);
  testing::TlsServer intercepted_server(intercepted);
  const auto bundle = dir_.path() + "/machine-roots.pem";
  testing::write_pem_file(bundle, {&pki.public_root, &pki.corporate_root});
  const auto profile = dir_.write(
      "tls.toml", "name = \"tls\"\ntimeout = \"3s\"\n[tls]\nca_file = \"" + bundle +
                      "\"\n[[tls.expected_root]]\nname = \"Fake Public Root G2\"\nsha1 = \"" +
                      pki.public_root.sha1() +
                      "\"\n[[endpoint]]\nname = \"Relay\"\nhost = \"127.0.0.1\"\nports = [" +
                      std::to_string(expiring_server.port()) + ", " +
                      std::to_string(intercepted_server.port()) + "]\ntls = true\n");
  auto d = create(options(profile));
  ASSERT_TRUE(d);
  run_until(*d, [](const WatchSnapshot& s) { return s.counters.runs_total() >= 1; });

  const auto parsed = testing::parse_exposition(d->handle(get("/metrics")).body);
  ASSERT_TRUE(std::holds_alternative<testing::Exposition>(parsed)) << std::get<std::string>(parsed);
  const auto report = json::parse(d->handle(get("/report?format=json")).body);
  const std::string expiring_id = "tls:127.0.0.1:" + std::to_string(expiring_server.port());
  const std::string intercepted_id = "tls:127.0.0.1:" + std::to_string(intercepted_server.port());
  double not_after_fact = 0;
  for (const auto& r : report["results"]) {
    if (r["id"] == expiring_id) not_after_fact = r["facts"]["cert_not_after_unix"].get<double>();
  }
  ASSERT_GT(not_after_fact, 0);
  bool expiry = false, intercepted_code = false, tls_phase = false;
  for (const auto& s : std::get<testing::Exposition>(parsed).samples) {
    if (s.name == "gwprobe_tls_cert_expiry_timestamp_seconds" &&
        s.labels.at("check") == expiring_id) {
      expiry = true;
      EXPECT_EQ(s.value, not_after_fact);
      const auto left =
          s.value - static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
      EXPECT_LT(left, 14 * 86400) << "the fixture's leaf expires in 3.5 days";
      EXPECT_GT(left, 0);
    }
    if (s.name == "gwprobe_diagnosis_info" && s.labels.at("check") == intercepted_id) {
      intercepted_code = s.labels.at("code") == "TLS_INTERCEPTED";
    }
    tls_phase = tls_phase || (s.name == "gwprobe_phase_seconds" && s.labels.at("phase") == "tls");
  }
  EXPECT_TRUE(expiry);
  EXPECT_TRUE(intercepted_code);
  EXPECT_TRUE(tls_phase);
}

TEST_F(Daemon, ProbeRunsOneCheckOnDemandAndReportsOnlyIt) {
  testing::AcceptingListener open;
  testing::LoopbackSocket closed("127.0.0.1", -1);
  auto d = create(options(
      loop_profile(dir_, std::to_string(open.port()) + ", " + std::to_string(closed.port))));
  ASSERT_TRUE(d);
  const std::string id = "tcp:127.0.0.1:" + std::to_string(open.port());
  const auto probe = d->handle(get("/probe?check=" + id));
  EXPECT_EQ(probe.status, 200);
  EXPECT_NE(probe.body.find("gwprobe_check_success{check=\"" + id +
                            "\",kind=\"tcp\",target=\"127."
                            "0.0.1:" +
                            std::to_string(open.port()) + "\"} 1\n"),
            std::string::npos)
      << probe.body;
  EXPECT_EQ(probe.body.find(std::to_string(closed.port)), std::string::npos) << "only one check";
  EXPECT_NE(probe.body.find("gwprobe_run_verdict{verdict=\"ready\"} 1"), std::string::npos);

  const auto failing = json::parse(d->handle(get("/probe?check=tcp%3A127.0.0.1%3A" +
                                                 std::to_string(closed.port) + "&format=json"))
                                       .body);
  EXPECT_EQ(failing["results"][0]["diagnosis"], "TCP_REFUSED");
  EXPECT_EQ(failing["verdict"], "not_ready");

  const auto unknown = d->handle(get("/probe?check=tcp:127.0.0.1:1"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("unknown check 'tcp:127.0.0.1:1'"), std::string::npos);
  EXPECT_EQ(d->handle(get("/probe")).status, 400);
  EXPECT_EQ(d->handle(get("/probe?check=" + id + "&format=yaml")).status, 400);
  const auto c = d->state().snapshot().counters;
  EXPECT_EQ(c.probe_requests[static_cast<int>(ProbeOutcome::completed)], 2u);
  EXPECT_EQ(c.probe_requests[static_cast<int>(ProbeOutcome::unknown_check)], 1u);
  EXPECT_EQ(c.runs_total(), 0u) << "on-demand checks are not scheduled runs";
}

TEST_F(Daemon, RunsTheExpressRouteCheckAndProbesItOnDemandAndRefusesAnUnreadableRouteFilter) {
  testing::AcceptingListener open;
  const auto only_west = dir_.write("filter.txt", "12076:51002  # West Europe\n");
  const auto bgp_profile = [&](const std::string& route_filter) {
    return dir_.write("er.toml", "name = \"er\"\n[bgp]\ngeography = \"Europe\"\nroute_filter = \"" +
                                     route_filter +
                                     "\"\n[[endpoint]]\nname = \"L\"\nhost = \"127.0.0.1\"\n"
                                     "ports = [" +
                                     std::to_string(open.port()) + "]\n");
  };
  auto missing = WatchDaemon::create(options(bgp_profile(dir_.path() + "/missing.json")), clock_,
                                     random_uniform01());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("profile [bgp]:"), std::string::npos);
  EXPECT_NE(missing.error().message.find("missing.json"), std::string::npos);

  auto d = create(options(bgp_profile(only_west)));
  ASSERT_TRUE(d);
  run_until(*d, [](const WatchSnapshot& s) { return s.counters.runs_total() >= 1; });
  std::string missing_id;
  const auto report = json::parse(d->handle(get("/report?format=json")).body);
  for (const auto& r : report["results"]) {
    if (r["diagnosis"] == "BGP_COMMUNITY_MISSING") missing_id = r["id"];
  }
  ASSERT_FALSE(missing_id.empty()) << "North Europe's community is missing from the filter";
  const auto probe =
      json::parse(d->handle(get("/probe?check=" + missing_id + "&format=json")).body);
  ASSERT_EQ(probe["results"].size(), 1u);
  EXPECT_EQ(probe["results"][0]["diagnosis"], "BGP_COMMUNITY_MISSING");
  EXPECT_EQ(d->handle(get("/probe?check=bgp:65000:1")).status, 404);

  bgp_profile(dir_.path() + "/gone.json");
  d->reload();
  EXPECT_FALSE(d->state().snapshot().counters.last_reload_ok);
  EXPECT_EQ(d->handle(get("/probe?check=" + missing_id)).status, 200) << "the old profile is kept";
}

TEST_F(Daemon, ProbeConcurrencyIsBoundedAndStoppingCancelsOnDemandChecks) {
  testing::FullListener filtered("127.0.0.1");  // connects hang: the check waits its timeout
  auto o = options(loop_profile(dir_, std::to_string(filtered.port()), "slow", "30s"));
  o.probe_concurrency = 1;
  auto d = create(o);
  ASSERT_TRUE(d);
  const std::string target = "/probe?check=tcp:127.0.0.1:" + std::to_string(filtered.port());
  HttpResponse first;
  std::thread slow([&] { first = d->handle(get(target)); });
  for (int i = 0; i < 1000 && d->state().snapshot().counters.probes_in_flight == 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(d->state().snapshot().counters.probes_in_flight, 1u);
  const auto busy = d->handle(get(target));
  EXPECT_EQ(busy.status, 503);
  const auto began = std::chrono::steady_clock::now();
  d->request_stop();
  slow.join();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 20s) << "the 30 s check was not cancelled";
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("code=\"PROBE_CANCELLED\""), std::string::npos) << first.body;
  EXPECT_EQ(d->state().snapshot().counters.probe_requests[static_cast<int>(ProbeOutcome::busy)],
            1u);
}

TEST_F(Daemon, ReloadSwapsInAGoodProfileAndKeepsTheOldOneWhenTheNewOneIsBroken) {
  testing::AcceptingListener open;
  const auto path = loop_profile(dir_, std::to_string(open.port()), "loop");
  auto d = create(options(path));
  ASSERT_TRUE(d);

  dir_.write("loop.toml",
             "name = \"renamed\"\n[[endpoint]]\nname = \"L\"\nhost = "
             "\"127.0.0.1\"\nports = [" +
                 std::to_string(open.port()) + ", 1]\n");
  d->reload();
  EXPECT_EQ(d->state().profile()->name, "renamed");

  dir_.write("loop.toml",
             "name = \"broken\"\n[[endpoint]]\nname = \"L\"\nhost = "
             "\"127.0.0.1\"\nports = [0]\n");
  d->reload();
  EXPECT_EQ(d->state().profile()->name, "renamed") << "a bad profile must not replace a good one";
  const auto c = d->state().snapshot().counters;
  EXPECT_EQ(c.reloads_ok, 1u);
  EXPECT_EQ(c.reloads_failed, 1u);
  EXPECT_FALSE(c.last_reload_ok);

  std::vector<json> reloads;
  for (const auto& e : events()) {
    if (e["event"] == "reload" || e["event"] == "reload_failed") reloads.push_back(e);
  }
  ASSERT_EQ(reloads.size(), 2u);
  EXPECT_EQ(reloads[0]["event"], "reload");
  EXPECT_EQ(reloads[0]["profile"], "renamed");
  EXPECT_EQ(reloads[0]["checks"], 2);
  EXPECT_EQ(reloads[1]["event"], "reload_failed");
  EXPECT_EQ(reloads[1]["kept"], "renamed");
  const std::string error = reloads[1]["error"];
  EXPECT_NE(error.find("loop.toml:5:10: 'endpoint.ports'"), std::string::npos) << error;

  // The kept profile is the one /probe uses.
  EXPECT_EQ(d->handle(get("/probe?check=tcp:127.0.0.1:1")).status, 200);
}

}  // namespace
}  // namespace gwprobe::cli::watch
