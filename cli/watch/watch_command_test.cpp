// `gwprobe watch` as a process: endpoints over HTTP, promtool on the live /metrics, state-change
// lines, SIGHUP with a good and a bad profile, SIGTERM/SIGINT exit codes, history rotation,
// systemd notification, start-up errors. Loopback only.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/unique_fd.hpp"
#include "tests/fixtures/accepting_listener.hpp"
#include "tests/fixtures/child_process.hpp"
#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/http_client.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kWait = 20s;  // upper bound for anything a test waits for; never a target

std::string profile_text(const std::string& name, const std::vector<std::uint16_t>& ports,
                         const std::string& extra = "") {
  std::string list;
  for (const auto p : ports) list += (list.empty() ? "" : ", ") + std::to_string(p);
  return "name = \"" + name + "\"\ntimeout = \"2s\"\n" + extra +
         "[dns]\nprivate_answers_expected = true\n[[endpoint]]\nname = \"Loopback\"\n"
         "host = \"127.0.0.1\"\nports = [" +
         list + "]\n";
}

std::optional<json> as_json(const std::string& line) {
  try {
    return json::parse(line);
  } catch (...) {
    return std::nullopt;
  }
}

/// A running `gwprobe watch` on 127.0.0.1, port 0, events on stdout.
class Watch {
 public:
  explicit Watch(std::vector<std::string> args, ProcessOptions options = {}) {
    args.insert(args.begin(),
                {gwprobe_binary(), "watch", "--listen", "127.0.0.1:0", "--hosts-file", ""});
    child_ = std::make_unique<ChildProcess>(args, options);
    const auto start = event("start");
    if (start) port_ = split_host_port((*start)["listen"].get<std::string>()).second;
  }

  std::uint16_t port() const { return port_; }
  ChildProcess& child() { return *child_; }

  /// The first event named `name` (after `skip` lines) that satisfies `match`.
  std::optional<json> event(const std::string& name,
                            const std::function<bool(const json&)>& match = {},
                            std::size_t skip = 0) {
    const auto line = child_->wait_for_line(
        [&](const std::string& l) {
          const auto j = as_json(l);
          return j && j->value("event", "") == name && (!match || match(*j));
        },
        kWait, skip);
    if (!line) return std::nullopt;
    return as_json(*line);
  }

  HttpReply get(const std::string& target, const std::string& method = "GET") const {
    return http_get("127.0.0.1", port_, target, method);
  }

  /// Polls /healthz until `runs` scheduled runs have finished (bounded by kWait).
  bool wait_runs(int runs) const {
    const auto until = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < until) {
      const auto health = as_json(get("/healthz").body);
      if (health && health->value("runs", 0) >= runs) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
};

TEST(WatchCommand, ServesEveryEndpointOverHttpAndStopsCleanlyOnSigterm) {
  ScratchDir dir;
  AcceptingListener open;
  LoopbackSocket closed("127.0.0.1", -1);
  const auto profile = dir.write("loop.toml", profile_text("loop", {open.port(), closed.port}));
  Watch watch({"--profile", profile, "--interval", "100ms"});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  ASSERT_TRUE(watch.wait_runs(2));

  const auto metrics = watch.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto parsed = parse_exposition(metrics.body);
  ASSERT_TRUE(std::holds_alternative<Exposition>(parsed)) << std::get<std::string>(parsed);
  const auto& x = std::get<Exposition>(parsed);
  const std::string open_id = "tcp:127.0.0.1:" + std::to_string(open.port());
  bool found = false;
  for (const auto& s : x.samples) {
    if (s.name == "gwprobe_check_success" && s.labels.at("check") == open_id) {
      found = true;
      EXPECT_EQ(s.value, 1);
      EXPECT_EQ(s.labels.at("target"), "127.0.0.1:" + std::to_string(open.port()));
    }
  }
  EXPECT_TRUE(found);
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    ProcessOptions stdin_options;
    stdin_options.stdin_data = metrics.body;
    const auto lint = run_process({"/usr/bin/promtool", "check", "metrics"}, stdin_options);
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out + lint.err, "");
  } else {
    std::cerr << "SKIPPED LOUDLY: promtool not installed; the strict parser still ran\n";
  }

  EXPECT_EQ(watch.get("/metrics", "HEAD").body, "");
  const auto probe = watch.get("/probe?check=" + open_id);
  EXPECT_EQ(probe.status, 200);
  EXPECT_NE(probe.body.find("gwprobe_check_success{check=\"" + open_id), std::string::npos);
  EXPECT_EQ(watch.get("/probe?check=nosuch").status, 404);
  auto report = watch.get("/report");
  EXPECT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_NE(report.headers["content-security-policy"].find("default-src 'none'"),
            std::string::npos);
  const auto health = watch.get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(as_json(health.body).value_or(json())["status"], "ok");
  EXPECT_EQ(watch.get("/metrics", "POST").status, 405);

  watch.child().signal(SIGTERM);
  EXPECT_EQ(watch.child().wait(kWait), 0) << watch.child().err();
  const auto stop = watch.event("stop");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ((*stop)["reason"], "SIGTERM");
  EXPECT_GE((*stop)["runs"].get<int>(), 2);
  EXPECT_NE(watch.get("/healthz").error, "") << "the server must be closed";
}

TEST(WatchCommand, LogsStateChangesAsJsonLinesWhenAPortOpensAndCloses) {
  ScratchDir dir;
  LoopbackSocket port("127.0.0.1", -1);  // bound, not listening: refused
  ASSERT_TRUE(port.bound);
  const auto profile = dir.write("loop.toml", profile_text("loop", {port.port}));
  Watch watch({"--profile", profile, "--interval", "50ms"});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  const std::string id = "tcp:127.0.0.1:" + std::to_string(port.port);

  const auto first = watch.event("state_change");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ((*first)["check"], id);
  EXPECT_TRUE((*first)["from"].is_null());
  EXPECT_EQ((*first)["to"], "fail");
  EXPECT_EQ((*first)["to_code"], "TCP_REFUSED");
  EXPECT_FALSE((*first)["time"].get<std::string>().empty());

  ASSERT_EQ(::listen(port.fd.get(), 8), 0);
  const auto up = watch.event("state_change", [](const json& e) { return e["to"] == "pass"; });
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ((*up)["from"], "fail");
  EXPECT_EQ((*up)["from_code"], "TCP_REFUSED");
  EXPECT_EQ((*up)["to_code"], "OK");

  port.fd.reset();  // closed again: refused
  const auto down = watch.event("state_change", [](const json& e) { return e["from"] == "pass"; });
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ((*down)["to"], "fail");
  EXPECT_EQ((*down)["to_code"], "TCP_REFUSED");

  // Exactly those three changes, each one line of JSON; runs in between logged nothing.
  int changes = 0;
  for (const auto& line : watch.child().lines()) {
    const auto j = as_json(line);
    ASSERT_TRUE(j.has_value()) << "not JSON: " << line;
    changes += (*j)["event"] == "state_change";
  }
  EXPECT_EQ(changes, 3);

  watch.child().signal(SIGINT);
  EXPECT_EQ(watch.child().wait(kWait), 0) << "Ctrl-C is a clean stop for a daemon";
  EXPECT_EQ(watch.event("stop").value_or(json())["reason"], "SIGINT");
}

TEST(WatchCommand, SighupReloadsAGoodProfileAndKeepsTheOldOneWhenTheNewOneIsBad) {
  ScratchDir dir;
  AcceptingListener a;
  AcceptingListener b;
  const auto profile = dir.write("gw.toml", profile_text("before", {a.port()}));
  Watch watch({"--profile", profile, "--interval", "50ms"});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  ASSERT_TRUE(watch.wait_runs(1));

  dir.write("gw.toml", profile_text("after", {a.port(), b.port()}));
  watch.child().signal(SIGHUP);
  const auto reload = watch.event("reload");
  ASSERT_TRUE(reload.has_value()) << watch.child().err();
  EXPECT_EQ((*reload)["profile"], "after");
  EXPECT_EQ((*reload)["checks"], 2);
  const std::string b_id = "tcp:127.0.0.1:" + std::to_string(b.port());
  bool new_check_seen = false;
  for (int i = 0; i < 500 && !new_check_seen; ++i) {
    new_check_seen = watch.get("/metrics").body.find(b_id) != std::string::npos;
    if (!new_check_seen) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(new_check_seen) << "the next run must use the reloaded profile";

  dir.write("gw.toml",
            "name = \"broken\"\n[[endpoint]]\nname = \"L\"\nhost = \"127.0.0.1\"\n"
            "ports = [\"9354-9350\"]\n");
  watch.child().signal(SIGHUP);
  const auto failed = watch.event("reload_failed");
  ASSERT_TRUE(failed.has_value());
  const std::string error = (*failed)["error"];
  EXPECT_NE(error.find("gw.toml:5:"), std::string::npos) << error;
  EXPECT_NE(error.find("the first port is greater than the last"), std::string::npos) << error;
  EXPECT_EQ((*failed)["kept"], "after");

  // Still running the kept profile, and saying so in /metrics.
  const auto health = as_json(watch.get("/healthz").body).value_or(json());
  ASSERT_TRUE(watch.wait_runs(health.value("runs", 0) + 2));
  const auto metrics = watch.get("/metrics").body;
  EXPECT_NE(metrics.find("gwprobe_watch_config_last_reload_successful 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("gwprobe_watch_reloads_total{result=\"failure\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("gwprobe_run_info{profile=\"after\""), std::string::npos);
  EXPECT_NE(metrics.find(b_id), std::string::npos);

  watch.child().signal(SIGTERM);
  EXPECT_EQ(watch.child().wait(kWait), 0);
}

TEST(WatchCommand, KeepsASizeCappedRotatedHistoryOfRealRuns) {
  ScratchDir dir;
  AcceptingListener open;
  const auto profile = dir.write("loop.toml", profile_text("loop", {open.port()}));
  const std::string history = dir.path() + "/history.jsonl";
  // About two runs per file: a run is one ~1 KB line.
  Watch watch({"--profile", profile, "--interval", "20ms", "--history", history, "--history-max-mb",
               "0.002", "--history-keep", "2"});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  ASSERT_TRUE(watch.wait_runs(12));
  watch.child().signal(SIGTERM);
  ASSERT_EQ(watch.child().wait(kWait), 0);

  const std::uint64_t cap = 2098;  // ceil(0.002 MiB)
  for (const auto& path : {history, history + ".1", history + ".2"}) {
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    std::ifstream in(path);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
      const auto run = as_json(line);
      ASSERT_TRUE(run.has_value()) << path << ": " << line;
      EXPECT_EQ((*run)["schema"], "gwprobe.report/v1");
      EXPECT_EQ((*run)["profile"], "loop");
      ++lines;
    }
    EXPECT_GE(lines, 1) << path;
    if (lines > 1) {
      EXPECT_LE(std::filesystem::file_size(path), cap) << path;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(history + ".3"));
}

TEST(WatchCommand, TellsSystemdWhenItIsReadyAndWhenItStops) {
  ScratchDir dir;
  AcceptingListener open;
  const auto profile = dir.write("loop.toml", profile_text("loop", {open.port()}));
  const std::string socket_path = dir.path() + "/notify";
  core::UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  ProcessOptions options;
  options.env["NOTIFY_SOCKET"] = socket_path;
  Watch watch({"--profile", profile, "--interval", "50ms"}, options);
  ASSERT_NE(watch.port(), 0);
  std::vector<std::string> messages;
  const auto receive_until = [&](const std::string& wanted) {
    const auto until = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char buffer[512];
      const auto n = ::recv(sock.get(), buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      messages.emplace_back(buffer, static_cast<std::size_t>(n));
      if (messages.back() == wanted) return true;
    }
    return false;
  };
  EXPECT_TRUE(receive_until("READY=1"));
  ASSERT_TRUE(watch.wait_runs(1));
  watch.child().signal(SIGTERM);
  EXPECT_TRUE(receive_until("STOPPING=1"));
  EXPECT_EQ(watch.child().wait(kWait), 0);
  bool status_seen = false;
  for (const auto& m : messages) status_seen = status_seen || m.rfind("STATUS=READY: ", 0) == 0;
  EXPECT_TRUE(status_seen) << "a STATUS= line per run for `systemctl status`";
}

TEST(WatchCommand, NeverPrintsTheProxyPasswordOfItsProfile) {
  ScratchDir dir;
  AcceptingListener open;
  const auto profile = dir.write(
      "loop.toml", profile_text("loop", {open.port()},
                                "[proxy]\nurl = \"http://alice:s3cr3t-pw@127.0.0.1:9\"\n"));
  const std::string history = dir.path() + "/h.jsonl";
  Watch watch({"--profile", profile, "--interval", "50ms", "--history", history});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  ASSERT_TRUE(watch.wait_runs(2));
  std::string everything = watch.get("/metrics").body + watch.get("/report").body +
                           watch.get("/report?format=json").body + watch.get("/healthz").body;
  watch.child().signal(SIGHUP);
  ASSERT_TRUE(watch.event("reload").has_value());
  watch.child().signal(SIGTERM);
  ASSERT_EQ(watch.child().wait(kWait), 0);
  for (const auto& line : watch.child().lines()) everything += line;
  everything += watch.child().err();
  std::ifstream in(history);
  everything += std::string(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(everything.find("s3cr3t-pw"), std::string::npos);
}

TEST(WatchCommand, GoesThroughTheProxyOfItsFlagsWithCredentialsItNeverPrints) {
  ScratchDir dir;
  AcceptingListener upstream;
  HttpProxyConfig config;
  config.user = "alice";
  config.password = "Watch-pr0xy-pw";
  HttpProxy proxy(config);
  const auto password_file = dir.write("pw", "Watch-pr0xy-pw\n");
  // relay.test is never resolved here: the proxy is asked for it (and connects to 127.0.0.1).
  const auto profile =
      dir.write("relay.toml",
                "name = \"relay\"\ntimeout = \"2s\"\n[[endpoint]]\nname = \"Relay\"\n"
                "host = \"relay.test\"\nports = [" +
                    std::to_string(upstream.port()) + "]\n");
  Watch watch({"--profile", profile, "--interval", "100ms", "--proxy", proxy.url(), "--proxy-user",
               "alice", "--proxy-password-file", password_file});
  ASSERT_NE(watch.port(), 0) << watch.child().err();
  ASSERT_TRUE(watch.wait_runs(1));
  const std::string id = "proxy:relay.test:" + std::to_string(upstream.port());
  const auto metrics = watch.get("/metrics").body;
  EXPECT_NE(metrics.find("gwprobe_check_success{check=\"" + id + "\""), std::string::npos)
      << metrics;
  const auto report = as_json(watch.get("/report?format=json").body).value_or(json());
  bool passed = false;
  for (const auto& r : report.value("results", json::array())) {
    passed = passed || (r.value("id", "") == id && r.value("status", "") == "pass");
  }
  EXPECT_TRUE(passed) << report.dump();
  bool connected = false;
  for (const auto& request : proxy.requests()) {
    connected = connected || (request.method == "CONNECT" &&
                              request.target == "relay.test:" + std::to_string(upstream.port()) &&
                              !request.header("Proxy-Authorization").empty());
  }
  EXPECT_TRUE(connected) << "the check should have gone through the proxy, with credentials";
  watch.child().signal(SIGTERM);
  ASSERT_EQ(watch.child().wait(kWait), 0);
  std::string everything = metrics + report.dump() + watch.child().err();
  for (const auto& line : watch.child().lines()) everything += line;
  EXPECT_EQ(everything.find("Watch-pr0xy-pw"), std::string::npos);
}

TEST(WatchCommand, OutlivesAReaderOfItsEventsThatWentAway) {
  ScratchDir dir;
  AcceptingListener open;
  const auto profile = dir.write("loop.toml", profile_text("loop", {open.port()}));
  // `head -1` prints the start event and exits: later events meet a closed pipe (EPIPE, and
  // SIGPIPE unless ignored).
  ChildProcess pipeline({"/bin/sh", "-c",
                         "exec \"$0\" watch --profile \"$1\" --interval 50ms --listen "
                         "127.0.0.1:0 --hosts-file '' | head -n 1",
                         gwprobe_binary(), profile});
  const auto line = pipeline.wait_for_line([](const std::string&) { return true; }, kWait);
  ASSERT_TRUE(line.has_value()) << pipeline.err();
  const auto start = as_json(*line).value_or(json());
  const auto pid = start.value("pid", 0);
  const auto port = split_host_port(start.value("listen", "")).second;
  ASSERT_GT(pid, 0);
  ASSERT_NE(port, 0);
  // Each SIGHUP writes a reload event; once head has gone, the write fails and is counted.
  bool counted = false;
  for (int i = 0; i < 200 && !counted; ++i) {
    ::kill(pid, SIGHUP);
    std::this_thread::sleep_for(50ms);
    const auto parsed = parse_exposition(http_get("127.0.0.1", port, "/metrics").body);
    if (!std::holds_alternative<Exposition>(parsed)) continue;
    for (const auto& sample : std::get<Exposition>(parsed).samples) {
      counted = counted ||
                (sample.name == "gwprobe_watch_event_log_write_errors_total" && sample.value >= 1);
    }
  }
  EXPECT_TRUE(counted) << "the reload event should have failed to write, and been counted";
  EXPECT_EQ(http_get("127.0.0.1", port, "/healthz").status, 200) << "watch must still serve";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(pipeline.wait(kWait), 0);
  EXPECT_NE(::kill(pid, 0), 0) << "watch should have exited with the pipeline";
}

struct BadWatch {
  std::vector<std::string> args;
  const char* expected;
};

void PrintTo(const BadWatch& input, std::ostream* os) {
  for (const auto& arg : input.args) *os << arg << ' ';
}

class WatchRejects : public ::testing::TestWithParam<BadWatch> {};

TEST_P(WatchRejects, WithExitCode2AndAOneLineReason) {
  std::vector<std::string> args = {gwprobe_binary(), "watch"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});  // never the default port
  }
  ProcessOptions options;
  options.timeout = kWait;
  const auto r = run_process(args, options);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, WatchRejects,
    ::testing::Values(
        BadWatch{{"--interval", "0"}, "--interval: must be more than 0"},
        BadWatch{{"--interval", "soon"}, "--interval:"},
        BadWatch{{"--jitter", "0.7"}, "--jitter: expected a fraction from 0 to 0.5"},
        BadWatch{{"--profile", "nosuch"}, "unknown profile 'nosuch'"},
        BadWatch{{"--profile", GWPROBE_SOURCE_DIR "/rules/testdata/invalid-bad-port-zero.toml"},
                 "invalid-bad-port-zero.toml:6:15:"},
        BadWatch{{"--listen", "localhost"}, "--listen: bad address 'localhost'"},
        BadWatch{{"--history-max-mb", "0"}, "--history-max-mb: expected a size"},
        BadWatch{{"--history", "/nonexistent-gwprobe/h.jsonl"}, "--history: cannot open"},
        BadWatch{{"--state-log", "/nonexistent-gwprobe/e.jsonl"}, "--state-log: cannot open"},
        BadWatch{{"--only", "icmp"}, "unknown check kind 'icmp'"},
        BadWatch{{"--proxy", "ftp://proxy:21"}, "--proxy: unsupported proxy scheme 'ftp'"},
        BadWatch{{"--proxy", "http://127.0.0.1:9", "--proxy-password-file", "/nonexistent/pw"},
                 "--proxy-password-file: cannot read /nonexistent/pw"}));

TEST(WatchCommand, AnAddressInUseIsAUsageErrorNamingIt) {
  LoopbackSocket taken("127.0.0.1", 8);
  const std::string address = "127.0.0.1:" + std::to_string(taken.port);
  const auto r = run_process({gwprobe_binary(), "watch", "--listen", address});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot listen on " + address + ": Address already in use"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace gwprobe::testing
