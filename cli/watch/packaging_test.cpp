// packaging/: the systemd units (systemd-analyze verify and security, and their command lines
// run for real on loopback), the alert rules (promtool check and unit tests) and the Grafana
// dashboard (structure, PromQL syntax, and that every metric it or the alerts query exists).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "cli/watch/metrics.hpp"
#include "reports/testdata/sample_report.hpp"
#include "tests/fixtures/accepting_listener.hpp"
#include "tests/fixtures/child_process.hpp"
#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kPackaging = std::string(GWPROBE_SOURCE_DIR) + "/packaging";
const char* const kUnits[] = {"gwprobe-watch.service", "gwprobe-check.service",
                              "gwprobe-check.timer"};

std::string read(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

bool have(const char* tool) {
  return ::access(tool, X_OK) == 0;
}

/// The directives of a unit file (continuation lines joined), in order.
std::vector<std::pair<std::string, std::string>> directives(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(replace_all(text, "\\\n", " "));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

std::string value_of(const std::string& unit_text, const std::string& key) {
  std::string value;
  bool found = false;
  for (const auto& [k, v] : directives(unit_text)) {
    if (k == key) {
      value = v;
      found = true;
    }
  }
  EXPECT_TRUE(found) << key;
  return value;
}

/// The ExecStart words, the binary replaced by the one under test.
std::vector<std::string> exec_start(const std::string& unit) {
  std::istringstream words(value_of(read(kPackaging + "/systemd/" + unit), "ExecStart"));
  std::vector<std::string> argv;
  std::string word;
  while (words >> word) argv.push_back(word == "/usr/bin/gwprobe" ? gwprobe_binary() : word);
  return argv;
}

/// Replaces the value after `flag` in argv.
void set_flag(std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) {
      argv[i + 1] = value;
      return;
    }
  }
  ADD_FAILURE() << "the unit's command line has no " << flag;
}

TEST(SystemdUnits, PassSystemdAnalyzeVerifyWithoutAWord) {
  if (!have("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "SKIPPED LOUDLY: systemd-analyze not installed; the units were not verified";
  }
  ScratchDir dir;
  std::vector<std::string> argv = {"/usr/bin/systemd-analyze", "verify", "--man=no",
                                   "--generators=no", "--recursive-errors=no"};
  for (const char* unit : kUnits) {
    // verify checks that ExecStart's binary exists: point it at the one under test.
    argv.push_back(dir.write(unit, replace_all(read(kPackaging + "/systemd/" + unit),
                                               "/usr/bin/gwprobe", gwprobe_binary())));
  }
  const auto r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // A misspelt value is only a warning ("Failed to parse ..., ignoring") with exit code 0.
  EXPECT_EQ(r.out + r.err, "");
}

TEST(SystemdUnits, AreSandboxedAsTheBriefRequiresAndScoreWellInSystemdAnalyzeSecurity) {
  for (const char* unit : {"gwprobe-watch.service", "gwprobe-check.service"}) {
    SCOPED_TRACE(unit);
    const std::string text = read(kPackaging + "/systemd/" + unit);
    EXPECT_EQ(value_of(text, "DynamicUser"), "yes");
    EXPECT_EQ(value_of(text, "ProtectSystem"), "strict");
    EXPECT_EQ(value_of(text, "ProtectHome"), "yes");
    EXPECT_EQ(value_of(text, "PrivateTmp"), "yes");
    EXPECT_EQ(value_of(text, "NoNewPrivileges"), "yes");
    EXPECT_EQ(value_of(text, "RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX AF_NETLINK");
    EXPECT_EQ(value_of(text, "CapabilityBoundingSet"), "");
    EXPECT_EQ(value_of(text, "AmbientCapabilities"), "");
    EXPECT_NE(text.find("\nSystemCallFilter=@system-service\n"), std::string::npos);
    if (!have("/usr/bin/systemd-analyze")) continue;
    ScratchDir dir;
    const auto path = dir.write(unit, replace_all(text, "/usr/bin/gwprobe", gwprobe_binary()));
    // 2.0 on systemd's 0-10 exposure scale ("OK"); the units score 1.1 and 1.3.
    const auto r = run_process(
        {"/usr/bin/systemd-analyze", "security", "--offline=yes", "--threshold=20", path});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  if (!have("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "SKIPPED LOUDLY: systemd-analyze not installed; exposure not scored";
  }
}

TEST(SystemdUnits, TheWatchCommandLineRunsAndStopsCleanly) {
  ScratchDir dir;
  AcceptingListener open;
  auto argv = exec_start("gwprobe-watch.service");
  set_flag(argv, "--profile",
           dir.write("profile.toml",
                     "name = \"unit\"\n[[endpoint]]\nname = \"L\"\nhost = "
                     "\"127.0.0.1\"\nports = [" +
                         std::to_string(open.port()) + "]\n"));
  set_flag(argv, "--listen", "127.0.0.1:0");
  set_flag(argv, "--history", dir.path() + "/history.jsonl");
  ChildProcess watch(argv);
  ASSERT_TRUE(watch.wait_for_line(
      [](const std::string& l) { return l.find("\"event\":\"start\"") != std::string::npos; }, 20s))
      << watch.err();
  // ExecReload sends SIGHUP; systemd stops with SIGTERM.
  watch.signal(SIGHUP);
  ASSERT_TRUE(watch.wait_for_line(
      [](const std::string& l) { return l.find("\"event\":\"reload\"") != std::string::npos; },
      20s));
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(20s), 0) << watch.err();
}

TEST(SystemdUnits, TheCheckCommandLineWritesTheTextfileAndExitsWithinSuccessExitStatus) {
  ScratchDir dir;
  AcceptingListener open;
  auto argv = exec_start("gwprobe-check.service");
  set_flag(argv, "--profile",
           dir.write("profile.toml",
                     "name = \"unit\"\n[[endpoint]]\nname = \"L\"\nhost = "
                     "\"127.0.0.1\"\nports = [" +
                         std::to_string(open.port()) + ", 1]\n"));
  const std::string output = dir.path() + "/gwprobe.prom";
  set_flag(argv, "--output", output);
  const auto r = run_process(argv);
  // 1 = not ready (port 1 refused): the unit lists it in SuccessExitStatus.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(value_of(read(kPackaging + "/systemd/gwprobe-check.service"), "SuccessExitStatus"),
            "1");
  EXPECT_TRUE(r.out.empty() && r.err.empty()) << r.out << r.err;
  const auto parsed = parse_exposition(read(output));
  EXPECT_TRUE(std::holds_alternative<Exposition>(parsed)) << std::get<std::string>(parsed);
}

/// Every metric name /metrics can carry: the daemon's families and a run with every fact.
std::set<std::string> exposed_metric_names() {
  auto profile = std::make_shared<rules::Profile>();
  profile->name = "sample";
  cli::watch::WatchState state(profile, {60s, 0.1});
  (void)state.run_finished(
      std::make_shared<const core::RunReport>(reports::testdata::sample_report()), {});
  const auto parsed = parse_exposition(
      cli::watch::render_metrics(state.snapshot(), cli::watch::read_process_stats()));
  std::set<std::string> names;
  for (const auto& s : std::get<Exposition>(parsed).samples) names.insert(s.name);
  return names;
}

std::set<std::string> queried_metric_names(const std::string& text) {
  static const std::regex metric("\\b((gwprobe|process)_[a-z0-9_]+|up)\\b");
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), metric), end; it != end; ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

TEST(AlertRules, PassPromtoolCheckRulesAndTheirUnitTests) {
  if (!have("/usr/bin/promtool")) {
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/promtool is not installed (Debian package "
                    "prometheus; scripts/setup.sh installs it): alert rules not checked";
  }
  const auto check =
      run_process({"/usr/bin/promtool", "check", "rules", kPackaging + "/prometheus/alerts.yml"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("SUCCESS: 6 rules found"), std::string::npos) << check.out;
  ProcessOptions in_dir;
  in_dir.cwd = kPackaging + "/prometheus";
  const auto test = run_process({"/usr/bin/promtool", "test", "rules", "alerts_test.yml"}, in_dir);
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_NE(test.out.find("SUCCESS"), std::string::npos) << test.out;
}

TEST(AlertRules, QueryOnlyMetricsThatGwprobeExposes) {
  const auto exposed = exposed_metric_names();
  const auto queried = queried_metric_names(read(kPackaging + "/prometheus/alerts.yml"));
  EXPECT_GE(queried.size(), 8u);
  for (const auto& name : queried) {
    if (name == "up") continue;  // Prometheus's own, per scrape target
    EXPECT_TRUE(exposed.count(name)) << name << " is queried but not in /metrics";
  }
}

json dashboard() {
  return json::parse(read(kPackaging + "/grafana/gwprobe-fleet.json"));
}

TEST(GrafanaDashboard, IsAWellFormedFleetDashboard) {
  const auto d = dashboard();
  EXPECT_EQ(d["uid"], "gwprobe-fleet");
  EXPECT_FALSE(d["title"].get<std::string>().empty());
  EXPECT_GE(d["schemaVersion"].get<int>(), 30);

  std::set<std::string> variables;
  for (const auto& v : d["templating"]["list"]) variables.insert(v["name"].get<std::string>());
  EXPECT_EQ(variables, (std::set<std::string>{"datasource", "job", "profile", "instance"}));

  std::set<int> ids;
  std::set<std::string> types;
  std::vector<json> boxes;
  for (const auto& p : d["panels"]) {
    const std::string title = p["title"];
    SCOPED_TRACE(title);
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id";
    types.insert(p["type"].get<std::string>());
    const auto& g = p["gridPos"];
    EXPECT_GE(g["x"].get<int>(), 0);
    EXPECT_LE(g["x"].get<int>() + g["w"].get<int>(), 24) << "wider than the grid";
    EXPECT_GT(g["h"].get<int>(), 0);
    for (const auto& other : boxes) {  // no two panels overlap
      const bool apart = g["x"].get<int>() + g["w"].get<int>() <= other["x"].get<int>() ||
                         other["x"].get<int>() + other["w"].get<int>() <= g["x"].get<int>() ||
                         g["y"].get<int>() + g["h"].get<int>() <= other["y"].get<int>() ||
                         other["y"].get<int>() + other["h"].get<int>() <= g["y"].get<int>();
      EXPECT_TRUE(apart) << "overlaps another panel";
    }
    boxes.push_back(g);
    if (p["type"] == "row") continue;
    EXPECT_EQ(p["datasource"]["uid"], "${datasource}");
    ASSERT_FALSE(p["targets"].empty());
    std::set<std::string> refs;
    for (const auto& t : p["targets"]) {
      EXPECT_TRUE(refs.insert(t["refId"].get<std::string>()).second);
      EXPECT_EQ(t["datasource"]["uid"], "${datasource}");
      const std::string expr = t["expr"];
      static const std::regex used("\\$([a-z_]+)");
      for (std::sregex_iterator it(expr.begin(), expr.end(), used), end; it != end; ++it) {
        EXPECT_TRUE(variables.count((*it)[1])) << "undefined variable $" << (*it)[1];
      }
    }
  }
  // What the fleet view is made of: the success matrix, its history, the diagnosis table,
  // phase latency, certificate expiry.
  for (const char* type : {"table", "status-history", "timeseries", "bargauge", "stat"}) {
    EXPECT_TRUE(types.count(type)) << type;
  }
  bool matrix = false;
  for (const auto& p : d["panels"]) {
    for (const auto& t : p.value("transformations", json::array())) {
      matrix = matrix || t["id"] == "groupingToMatrix";
    }
  }
  EXPECT_TRUE(matrix) << "the success matrix is a gateway x check table";
}

TEST(GrafanaDashboard, QueriesOnlyMetricsThatGwprobeExposes) {
  const auto exposed = exposed_metric_names();
  const auto d = dashboard();
  std::string all_queries;
  for (const auto& p : d["panels"]) {
    for (const auto& t : p.value("targets", json::array()))
      all_queries += t["expr"].get<std::string>() + "\n";
  }
  for (const auto& v : d["templating"]["list"]) {
    if (v.contains("definition")) all_queries += v["definition"].get<std::string>() + "\n";
  }
  const auto queried = queried_metric_names(all_queries);
  for (const char* needed :
       {"gwprobe_check_success", "gwprobe_phase_seconds", "gwprobe_diagnosis_info",
        "gwprobe_tls_cert_expiry_timestamp_seconds", "gwprobe_run_info"}) {
    EXPECT_TRUE(queried.count(needed)) << needed;
  }
  for (const auto& name : queried) {
    if (name == "up") continue;
    EXPECT_TRUE(exposed.count(name)) << name << " is queried but not in /metrics";
  }
}

TEST(GrafanaDashboard, QueriesAreValidPromQL) {
  if (!have("/usr/bin/promtool")) {
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/promtool is not installed: PromQL not parsed";
  }
  // promtool parses recording rules: one per query, with the variables filled in.
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int n = 0;
  const auto d = dashboard();
  for (const auto& p : d["panels"]) {
    for (const auto& t : p.value("targets", json::array())) {
      std::string expr = t["expr"];
      for (const char* var : {"$instance", "$job", "$profile"}) expr = replace_all(expr, var, ".*");
      rules += "      - record: dashboard:query" + std::to_string(++n) +
               "\n        expr: " + json(expr).dump() + "\n";
    }
  }
  ScratchDir dir;
  const auto r = run_process({"/usr/bin/promtool", "check", "rules", dir.write("q.yml", rules)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << rules;
  EXPECT_NE(r.out.find("SUCCESS: " + std::to_string(n) + " rules found"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::testing
