// `gwprobe check` and `gwprobe probe` end to end: the real binary against loopback only.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

ProcessResult gwprobe(std::vector<std::string> args, ProcessOptions options = {}) {
  args.insert(args.begin(), gwprobe_binary());
  return run_process(args, options);
}

/// A profile with one endpoint on 127.0.0.1 (no DNS involved: an IP literal).
std::string loopback_profile(const ScratchDir& dir, const std::string& ports,
                             const std::string& requirement = "required") {
  return dir.write("loop.toml",
                   "name = \"loop\"\ntimeout = \"2s\"\n[dns]\n"
                   "private_answers_expected = true\n[[endpoint]]\n"
                   "name = \"Loopback service\"\nhost = \"127.0.0.1\"\nports = [" +
                       ports + "]\nrequirement = \"" + requirement + "\"\n");
}

json parse_json(const ProcessResult& r) {
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out << "\n" << r.err;
    return json::object();
  }
}

TEST(Check, AReachablePortIsReadyWithExitCode0AndTheDesignedJsonShape) {
  ScratchDir dir;
  LoopbackSocket open("127.0.0.1", 8);
  const auto profile = loopback_profile(dir, std::to_string(open.port));
  auto r = gwprobe({"check", "--profile", profile, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto report = parse_json(r);
  EXPECT_EQ(report["schema"], "gwprobe.report/v1");
  EXPECT_EQ(report["profile"], "loop");
  EXPECT_EQ(report["verdict"], "ready");
  ASSERT_EQ(report["results"].size(), 1u);
  const auto& tcp = report["results"][0];
  EXPECT_EQ(tcp["id"], "tcp:127.0.0.1:" + std::to_string(open.port));
  EXPECT_EQ(tcp["kind"], "tcp");
  EXPECT_EQ(tcp["status"], "pass");
  EXPECT_EQ(tcp["diagnosis"], "OK");
  for (const char* key : {"message", "advice", "duration_ms", "phases", "facts", "target"}) {
    EXPECT_TRUE(tcp.contains(key)) << key;
  }
  EXPECT_TRUE(tcp["phases"].contains("connect"));
}

TEST(Check, ARefusedRequiredPortIsNotReadyWithExitCode1AndAdvice) {
  ScratchDir dir;
  LoopbackSocket closed("127.0.0.1", -1);
  const auto profile = loopback_profile(dir, std::to_string(closed.port));
  auto r = gwprobe({"check", "--profile", profile, "--format", "json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto report = parse_json(r);
  EXPECT_EQ(report["verdict"], "not_ready");
  EXPECT_EQ(report["results"][0]["diagnosis"], "TCP_REFUSED");
  EXPECT_EQ(report["results"][0]["status"], "fail");
  EXPECT_FALSE(report["results"][0]["advice"].get<std::string>().empty());
  ASSERT_FALSE(report["findings"].empty());
}

TEST(Check, AnOptionalPortFailureOnlyWarnsUnlessStrict) {
  ScratchDir dir;
  LoopbackSocket closed("127.0.0.1", -1);
  const auto profile = loopback_profile(dir, std::to_string(closed.port), "optional");
  auto relaxed = gwprobe({"check", "--profile", profile, "--format", "json"});
  EXPECT_EQ(relaxed.exit_code, 0);
  EXPECT_EQ(parse_json(relaxed)["verdict"], "degraded");
  EXPECT_EQ(parse_json(relaxed)["results"][0]["status"], "warn");
  auto strict = gwprobe({"check", "--profile", profile, "--format", "json", "--strict"});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_EQ(parse_json(strict)["verdict"], "not_ready");
}

TEST(Check, TextReportLeadsWithTheVerdictAndHasNoColourWhenPiped) {
  ScratchDir dir;
  LoopbackSocket closed("127.0.0.1", -1);
  auto r = gwprobe({"check", "--profile", loopback_profile(dir, std::to_string(closed.port))});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("NOT READY", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  EXPECT_NE(r.out.find("TCP_REFUSED"), std::string::npos);
}

TEST(Check, OutputWritesTheReportToAFileAndNothingToStdout) {
  ScratchDir dir;
  LoopbackSocket open("127.0.0.1", 8);
  const auto file = dir.path() + "/report.xml";
  auto r = gwprobe({"check", "--profile", loopback_profile(dir, std::to_string(open.port)),
                    "--format", "junit", "--output", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<testsuites"), std::string::npos);
}

TEST(Check, TheEmbeddedLocalProfileIsTheDefault) {
  // Nothing listens on the demo port here, so the check fails, but it ran the local profile.
  auto r = gwprobe({"check", "--format", "json", "--only", "dns"});
  const auto report = parse_json(r);
  EXPECT_EQ(report["profile"], "local");
  ASSERT_EQ(report["results"].size(), 1u);
  EXPECT_EQ(report["results"][0]["id"], "dns:localhost");  // answered by the hosts file
}

TEST(Check, DnsFailureSkipsTheDependentTcpChecksWithTheDnsCode) {
  MockDnsServer dns;
  dns.rcode("relay.example.test", MockDnsServer::Rcode::nxdomain);
  ScratchDir dir;
  const auto resolv = dir.write("resolv.conf", "nameserver 127.0.0.1\n");
  const auto profile =
      dir.write("nx.toml",
                "name = \"nx\"\ntimeout = \"2s\"\n[[endpoint]]\nname = \"Relay\"\nhost = "
                "\"relay.example.test\"\nports = [443, 9350]\n");
  auto r = gwprobe({"check", "--profile", profile, "--format", "json", "--resolv-conf", resolv,
                    "--hosts-file", "", "--dns-port", std::to_string(dns.port())});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_json(r);
  ASSERT_EQ(report["results"].size(), 3u);
  EXPECT_EQ(report["results"][0]["diagnosis"], "DNS_NXDOMAIN");
  EXPECT_EQ(report["results"][1]["status"], "skip");
  EXPECT_EQ(report["results"][1]["diagnosis"], "DNS_NXDOMAIN");
  EXPECT_EQ(report["results"][1]["facts"]["blocked_by"], "dns:relay.example.test");
  EXPECT_GE(dns.queries("relay.example.test"), 1);
}

TEST(Check, CtrlCStopsPromptlyPrintsThePartialReportAndExits130) {
  ScratchDir dir;
  FullListener filtered("127.0.0.1");
  LoopbackSocket open("127.0.0.1", 8);
  const auto profile =
      dir.write("slow.toml",
                "name = \"slow\"\ntimeout = \"30s\"\n[[endpoint]]\nname = "
                "\"Slow\"\nhost = \"127.0.0.1\"\nports = [" +
                    std::to_string(open.port) + ", " + std::to_string(filtered.port()) + "]\n");
  ProcessOptions options;
  options.signal = SIGINT;
  options.signal_after = 500ms;
  options.timeout = 20s;
  const auto start = std::chrono::steady_clock::now();
  auto r = gwprobe({"check", "--profile", profile, "--format", "json"}, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  const auto report = parse_json(r);
  EXPECT_EQ(report["interrupted"], true);
  ASSERT_EQ(report["results"].size(), 2u);
  EXPECT_EQ(report["results"][0]["status"], "pass");
  EXPECT_EQ(report["results"][1]["diagnosis"], "PROBE_CANCELLED");
}

struct BadInput {
  std::vector<std::string> args;
  const char* expected;
};

void PrintTo(const BadInput& input, std::ostream* os) {
  for (const auto& arg : input.args) *os << arg << ' ';
}

class CheckRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(CheckRejects, WithExitCode2AndAOneLineReason) {
  auto r = gwprobe(GetParam().args);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;  // nothing ran
}

INSTANTIATE_TEST_SUITE_P(
    Table, CheckRejects,
    ::testing::Values(
        BadInput{{"check", "--profile", "nosuch"}, "public"},
        BadInput{{"check", "--profile", "/nonexistent/p.toml"}, "/nonexistent/p.toml"},
        BadInput{
            {"check", "--profile", GWPROBE_SOURCE_DIR "/rules/testdata/invalid-bad-port-zero.toml"},
            "invalid-bad-port-zero.toml:6:15:"},
        BadInput{{"check", "--format", "yaml"}, "unknown report format 'yaml'"},
        BadInput{{"check", "--timeout", "5x"}, "bad duration '5x'"},
        BadInput{{"check", "--timeout", "0s"}, "--timeout"},
        BadInput{{"check", "--only", "dns,smtp"}, "unknown check kind 'smtp'"},
        BadInput{{"check", "--resolver", "dns.google"}, "--resolver"},
        BadInput{{"check", "--parallel", "0"}, "--parallel"},
        BadInput{{"check", "--probe-host", "nonsense"}, "PATTERN=HOST"},
        BadInput{{"probe", "tcp", "localhost"}, "expected HOST:PORT"},
        BadInput{{"probe", "tcp", "bad host:1"}, "neither a host name"},
        BadInput{{"probe", "dns", "example.test:53"}, "without a port"},
        BadInput{{"probe", "dns", "--no-system", "example.test"}, "--no-system"},
        BadInput{{"probe"}, "subcommand"},
        BadInput{{"check", "--capture-on-failure"}, "--capture FILE"},
        BadInput{{"check", "--capture", "x.pcap", "--capture-max-mb", "0"}, "--capture-max-mb"},
        BadInput{{"probe", "tcp", "127.0.0.1:1", "--capture-on-failure"}, "--capture FILE"}),
    [](const ::testing::TestParamInfo<BadInput>& param_info) {
      // "check --timeout 5x" -> "check_timeout_5x": readable ctest names.
      std::string name;
      for (const auto& arg : param_info.param.args) {
        for (char c : arg) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        name += '_';
      }
      return name + std::to_string(param_info.index);
    });

TEST(Probe, TcpToAnOpenPortPassesAndToAClosedOneFailsWithExit1) {
  LoopbackSocket open("127.0.0.1", 8);
  LoopbackSocket closed("127.0.0.1", -1);
  auto ok = gwprobe({"probe", "tcp", "127.0.0.1:" + std::to_string(open.port)});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out.rfind("READY", 0), 0u) << ok.out;
  auto refused =
      gwprobe({"probe", "tcp", "127.0.0.1:" + std::to_string(closed.port), "--format", "json"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(parse_json(refused)["results"][0]["diagnosis"], "TCP_REFUSED");
}

TEST(Probe, TcpHonoursItsTimeoutOnAFilteredPort) {
  FullListener filtered("127.0.0.1");
  const auto start = std::chrono::steady_clock::now();
  auto r = gwprobe({"probe", "tcp", "127.0.0.1:" + std::to_string(filtered.port()), "--timeout",
                    "300ms", "--format", "json"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(parse_json(r)["results"][0]["diagnosis"], "TCP_FILTERED");
}

TEST(Probe, DnsAsksTheMockResolverAndReportsTheCnameChain) {
  MockDnsServer dns;
  dns.cname("alias.example.test", "target.example.test").a("target.example.test", "192.0.2.10");
  ScratchDir dir;
  const auto resolv = dir.write("resolv.conf", "nameserver 127.0.0.1\n");
  auto r = gwprobe({"probe", "dns", "alias.example.test", "--resolv-conf", resolv, "--hosts-file",
                    "", "--dns-port", std::to_string(dns.port()), "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto result = parse_json(r)["results"][0];
  EXPECT_EQ(result["diagnosis"], "OK");
  EXPECT_NE(result["facts"].dump().find("target.example.test"), std::string::npos);
  EXPECT_NE(result["facts"].dump().find("192.0.2.10"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::testing

namespace gwprobe::testing {
namespace {

std::string bgp_profile(const ScratchDir& dir, const std::string& route_filter) {
  return dir.write("bgp.toml", "name = \"er\"\n[bgp]\ngeography = \"Europe\"\nroute_filter = \"" +
                                   route_filter + "\"\n");
}

TEST(CheckBgp, RunsTheCommunityCheckWhenTheProfileNamesAGeographyAndARouteFilter) {
  ScratchDir dir;
  const auto only_west = dir.write("filter.txt", "12076:51002  # West Europe\n");
  auto r = gwprobe({"check", "--profile", bgp_profile(dir, only_west), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_json(r);
  bool missing_north = false;
  for (const auto& result : report["results"]) {
    if (result["diagnosis"] == "BGP_COMMUNITY_MISSING" &&
        result["message"].get<std::string>().find("12076:51003") != std::string::npos) {
      missing_north = true;
    }
  }
  EXPECT_TRUE(missing_north) << report.dump(2);
}

TEST(CheckBgp, AnUnreadableRouteFilterIsAConfigurationErrorBeforeAnythingRuns) {
  ScratchDir dir;
  auto r = gwprobe({"check", "--profile", bgp_profile(dir, dir.path() + "/missing.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace gwprobe::testing

namespace gwprobe::testing {
namespace {

bool can_capture() {
  return ::geteuid() == 0;
}

TEST(CheckCapture, KeepsTheFileAndAddsEvidenceWhenACheckFails) {
  if (!can_capture()) GTEST_SKIP() << "SKIPPED LOUDLY: packet capture needs root or CAP_NET_RAW";
  ScratchDir dir;
  LoopbackSocket closed("127.0.0.1", -1);
  const auto pcap = dir.path() + "/run.pcap";
  auto r = gwprobe({"check", "--profile", loopback_profile(dir, std::to_string(closed.port)),
                    "--format", "json", "--capture", pcap, "--capture-on-failure"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_json(r);
  const auto& facts = report["results"][0]["facts"];
  EXPECT_EQ(facts["capture_rst_from"], "server") << facts.dump();
  EXPECT_NE(report["results"][0]["message"].get<std::string>().find("Capture:"), std::string::npos);
  EXPECT_NE(report["notes"].dump().find("run.pcap"), std::string::npos) << report["notes"];
  EXPECT_EQ(::access(pcap.c_str(), R_OK), 0) << "the capture file must be kept on failure";
}

TEST(CheckCapture, OnFailureOnlyRemovesTheFileWhenEverythingPassed) {
  if (!can_capture()) GTEST_SKIP() << "SKIPPED LOUDLY: packet capture needs root or CAP_NET_RAW";
  ScratchDir dir;
  LoopbackSocket open("127.0.0.1", 8);
  const auto pcap = dir.path() + "/run.pcap";
  auto r = gwprobe({"check", "--profile", loopback_profile(dir, std::to_string(open.port)),
                    "--capture", pcap, "--capture-on-failure"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(::access(pcap.c_str(), F_OK), 0) << "nothing failed: the file must be gone";
  EXPECT_NE(r.out.find("file removed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gwprobe::testing
