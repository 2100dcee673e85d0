// Lab: rulesets loaded into a real nftables (and iptables-nft) in network namespaces, exported
// with `nft -j list ruleset` / iptables-save, evaluated statically, and compared with what real
// connections through the same ruleset observe. Needs root; skips loudly without it.
//
//   bgpfwc (client, 10.240.1.2) --bgpfwc0/bgpfwr0-- bgpfwr (router) --bgpfwr1/bgpfws0-- bgpfws
//   (server: 10.240.2.2, .3 and .99, listening on every port below)
//
// The router has no default route and nothing is linked to the root namespace: traffic cannot
// leave the lab. Connects use plain non-blocking connect() with a poll() limit.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "core/unique_fd.hpp"
#include "rules/firewall/evaluate.hpp"
#include "rules/firewall/firewall_check.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::rules::firewall {
namespace {

using gwprobe::testing::ProcessOptions;
using gwprobe::testing::ProcessResult;
using gwprobe::testing::run_process;

constexpr const char* kClient = "bgpfwc";
constexpr const char* kRouter = "bgpfwr";
constexpr const char* kServer = "bgpfws";
// How long a connect may stay unanswered before it counts as dropped (TCP_FILTERED). Linux
// retransmits the SYN after 1 s; an answer (SYN-ACK, RST, ICMP) inside the lab takes < 10 ms.
constexpr int kUnansweredMs = 1500;
// Commands of the lab setup are local and quick; this bounds a hung one.
constexpr std::chrono::milliseconds kCommandLimit{20'000};

const std::vector<std::uint16_t> kPorts = {443, 1433, 5671, 5672, 80, 9350, 9351, 9352, 9353, 9354};

struct Target {
  std::string address;
  std::uint16_t port;
};

std::string source_path(const std::string& relative) {
  return std::string(GWPROBE_SOURCE_DIR) + "/" + relative;
}

ProcessResult command(const std::vector<std::string>& argv, const std::string& input = {}) {
  ProcessOptions options;
  options.timeout = kCommandLimit;
  options.stdin_data = input;
  return run_process(argv, options);
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Runs a setup command; returns an error description when it fails.
std::string must(const std::vector<std::string>& argv, const std::string& input = {}) {
  const auto r = command(argv, input);
  if (r.exit_code == 0) return {};
  return join(argv) + " -> exit " + std::to_string(r.exit_code) + ": " + r.err;
}

std::string in_ns(const char* ns, std::vector<std::string> argv, const std::string& input = {}) {
  argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
  return must(argv, input);
}

ProcessResult output_of(const char* ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
  return command(argv);
}

void teardown_lab() {
  for (const char* ns : {kClient, kRouter, kServer}) {
    command({"/usr/sbin/ip", "netns", "del", ns});
  }
}

std::string setup_lab() {
  teardown_lab();  // idempotent: leftovers of an interrupted run go first
  std::vector<std::vector<std::string>> steps = {
      {"/usr/sbin/ip", "netns", "add", kClient},
      {"/usr/sbin/ip", "netns", "add", kRouter},
      {"/usr/sbin/ip", "netns", "add", kServer},
      {"/usr/sbin/ip", "link", "add", "bgpfwc0", "netns", kClient, "type", "veth", "peer", "name",
       "bgpfwr0", "netns", kRouter},
      {"/usr/sbin/ip", "link", "add", "bgpfwr1", "netns", kRouter, "type", "veth", "peer", "name",
       "bgpfws0", "netns", kServer},
      {"/usr/sbin/ip", "-n", kClient, "addr", "add", "10.240.1.2/24", "dev", "bgpfwc0"},
      {"/usr/sbin/ip", "-n", kRouter, "addr", "add", "10.240.1.1/24", "dev", "bgpfwr0"},
      {"/usr/sbin/ip", "-n", kRouter, "addr", "add", "10.240.2.1/24", "dev", "bgpfwr1"},
      {"/usr/sbin/ip", "-n", kServer, "addr", "add", "10.240.2.2/24", "dev", "bgpfws0"},
      {"/usr/sbin/ip", "-n", kServer, "addr", "add", "10.240.2.3/24", "dev", "bgpfws0"},
      {"/usr/sbin/ip", "-n", kServer, "addr", "add", "10.240.2.99/24", "dev", "bgpfws0"},
  };
  for (const char* ns : {kClient, kRouter, kServer}) {
    steps.push_back({"/usr/sbin/ip", "-n", ns, "link", "set", "lo", "up"});
  }
  steps.push_back({"/usr/sbin/ip", "-n", kClient, "link", "set", "bgpfwc0", "up"});
  steps.push_back({"/usr/sbin/ip", "-n", kRouter, "link", "set", "bgpfwr0", "up"});
  steps.push_back({"/usr/sbin/ip", "-n", kRouter, "link", "set", "bgpfwr1", "up"});
  steps.push_back({"/usr/sbin/ip", "-n", kServer, "link", "set", "bgpfws0", "up"});
  steps.push_back({"/usr/sbin/ip", "-n", kClient, "route", "add", "default", "via", "10.240.1.1"});
  steps.push_back({"/usr/sbin/ip", "-n", kServer, "route", "add", "default", "via", "10.240.2.1"});
  for (const auto& step : steps) {
    if (auto error = must(step); !error.empty()) return error;
  }
  return in_ns(kRouter, {"/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1"});
}

// A socket created inside a namespace: setns() on a helper thread affects that thread only, and
// a socket stays in the namespace it was created in.
core::UniqueFd socket_in(const char* ns) {
  int fd = -1;
  std::thread helper([&] {
    const std::string path = std::string("/run/netns/") + ns;
    const int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return;
    if (::setns(nsfd, CLONE_NEWNET) == 0) {
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    ::close(nsfd);
  });
  helper.join();
  return core::UniqueFd(fd);
}

sockaddr_in ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  const auto parsed = IpAddress::parse(address);
  sa.sin_addr.s_addr = htonl(static_cast<std::uint32_t>(parsed ? parsed->lo : 0));
  return sa;
}

// Connects to every target at once from the client namespace; what each connect() saw, named
// as the TCP probe names it.
std::map<std::string, std::string> observe(const std::vector<Target>& targets) {
  std::vector<core::UniqueFd> sockets;
  std::vector<pollfd> polls;
  std::map<std::string, std::string> seen;
  for (const auto& t : targets) {
    const std::string key = t.address + ":" + std::to_string(t.port);
    auto fd = socket_in(kClient);
    if (!fd) {
      seen[key] = "socket failed";
      sockets.emplace_back();
      polls.push_back({-1, 0, 0});
      continue;
    }
    const auto sa = ipv4(t.address, t.port);
    const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    if (rc != 0 && errno != EINPROGRESS) seen[key] = "connect errno " + std::to_string(errno);
    polls.push_back({fd.get(), POLLOUT, 0});
    sockets.push_back(std::move(fd));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kUnansweredMs);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    bool pending = false;
    for (const auto& p : polls) pending = pending || (p.fd >= 0 && p.events != 0);
    if (!pending) break;
    const int n = ::poll(polls.data(), polls.size(), static_cast<int>(left.count()));
    if (n <= 0) continue;
    for (std::size_t i = 0; i < polls.size(); ++i) {
      if (polls[i].fd < 0 || polls[i].revents == 0) continue;
      int error = 0;
      socklen_t len = sizeof error;
      ::getsockopt(polls[i].fd, SOL_SOCKET, SO_ERROR, &error, &len);
      const std::string key = targets[i].address + ":" + std::to_string(targets[i].port);
      if (error == 0) {
        seen[key] = "OK";
      } else if (error == ECONNREFUSED) {
        seen[key] = "TCP_REFUSED";
      } else if (error == EHOSTUNREACH || error == ENETUNREACH) {
        seen[key] = "TCP_UNREACHABLE";
      } else {
        seen[key] = "errno " + std::to_string(error);
      }
      polls[i].events = 0;
      polls[i].fd = -1;
    }
  }
  for (const auto& t : targets) {
    const std::string key = t.address + ":" + std::to_string(t.port);
    if (seen.count(key) == 0) seen[key] = "TCP_FILTERED";
  }
  return seen;
}

std::vector<Target> all_targets() {
  std::vector<Target> targets;
  for (const auto port : kPorts) targets.push_back({"10.240.2.2", port});
  targets.push_back({"10.240.2.3", 1433});
  targets.push_back({"10.240.2.3", 443});
  targets.push_back({"10.240.2.99", 443});
  return targets;
}

class FirewallLab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) {
      skip_reason_ = "the firewall lab needs root (network namespaces, nftables)";
    } else if (::access("/usr/sbin/nft", X_OK) != 0 || ::access("/usr/sbin/ip", X_OK) != 0 ||
               ::access("/usr/sbin/iptables-restore", X_OK) != 0) {
      skip_reason_ = "nft, ip or iptables-restore missing (scripts/setup.sh all)";
    } else if (auto error = setup_lab(); !error.empty()) {
      skip_reason_ = "lab setup failed: " + error;
      teardown_lab();
    }
    if (!skip_reason_.empty()) {
      std::fprintf(stderr, "\n*** SKIPPING the firewall lab: %s ***\n\n", skip_reason_.c_str());
      return;
    }
    for (const auto port : kPorts) {
      auto fd = socket_in(kServer);
      const int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      const auto sa = ipv4("0.0.0.0", port);
      if (!fd || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
          ::listen(fd.get(), 64) != 0) {
        skip_reason_ = "cannot listen on port " + std::to_string(port) + " in " + kServer;
      }
      listeners_.push_back(std::move(fd));
    }
  }

  static void TearDownTestSuite() {
    listeners_.clear();
    teardown_lab();
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_EQ(in_ns(kRouter, {"/usr/sbin/nft", "flush", "ruleset"}), "");
    ASSERT_EQ(in_ns(kClient, {"/usr/sbin/nft", "flush", "ruleset"}), "");
  }

  // Static verdicts for every target, from a ruleset exported by the live kernel.
  static std::map<std::string, Verdict> evaluate(const Ruleset& ruleset, Path path,
                                                 const std::string& iif, const std::string& oif,
                                                 const std::vector<Target>& targets) {
    std::map<std::string, Verdict> out;
    for (const auto& t : targets) {
      PacketQuery q;
      q.destination = *IpAddress::parse(t.address);
      q.port = t.port;
      q.path = path;
      q.iif = iif;
      q.oif = oif;
      out[t.address + ":" + std::to_string(t.port)] = evaluate_packet(ruleset, q);
    }
    return out;
  }

  static void expect_same(const std::map<std::string, Verdict>& predicted,
                          const std::map<std::string, std::string>& observed) {
    for (const auto& [target, verdict] : predicted) {
      const std::string expected = expected_tcp_outcome(verdict);
      EXPECT_FALSE(expected.empty()) << target << ": " << verdict.describe();
      EXPECT_EQ(expected, observed.at(target))
          << target << ": static verdict " << verdict.describe();
    }
  }

  static Ruleset export_nft(const char* ns) {
    const auto json = output_of(ns, {"/usr/sbin/nft", "-j", "list", "ruleset"});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    auto ruleset = load_ruleset(bgp::SourceText{std::string(ns) + " nft -j", json.out});
    EXPECT_TRUE(ruleset) << ruleset.error().message;
    return ruleset ? *ruleset : Ruleset{};
  }

  static inline std::string skip_reason_;
  static inline std::vector<core::UniqueFd> listeners_;
};

TEST_F(FirewallLab, NftForwardChainVerdictsMatchRealConnections) {
  ASSERT_EQ(in_ns(kRouter, {"/usr/sbin/nft", "-f",
                            source_path("rules/firewall/testdata/router-forward.nft")}),
            "");
  const auto targets = all_targets();
  const auto predicted =
      evaluate(export_nft(kRouter), Path::forward, "bgpfwr0", "bgpfwr1", targets);
  const auto observed = observe(targets);
  expect_same(predicted, observed);
  // The ruleset covers every outcome: accepted, dropped, refused and unreachable.
  EXPECT_EQ(observed.at("10.240.2.2:443"), "OK");
  EXPECT_EQ(observed.at("10.240.2.2:9350"), "TCP_FILTERED");
  EXPECT_EQ(observed.at("10.240.2.2:9351"), "TCP_REFUSED");
  EXPECT_EQ(observed.at("10.240.2.2:9352"), "TCP_UNREACHABLE");
}

TEST_F(FirewallLab, IptablesForwardChainVerdictsMatchRealConnections) {
  auto rules = bgp::read_source_text(source_path("rules/firewall/testdata/router-forward.rules"));
  ASSERT_TRUE(rules);
  ASSERT_EQ(in_ns(kRouter, {"/usr/sbin/iptables-restore"}, rules->text), "");
  const auto saved = output_of(kRouter, {"/usr/sbin/iptables-save"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  auto ruleset = load_ruleset(bgp::SourceText{"bgpfwr iptables-save", saved.out});
  ASSERT_TRUE(ruleset) << ruleset.error().message;
  EXPECT_EQ(ruleset->format, RulesetFormat::iptables_save);
  const auto targets = all_targets();
  const auto predicted = evaluate(*ruleset, Path::forward, "bgpfwr0", "bgpfwr1", targets);
  const auto observed = observe(targets);
  expect_same(predicted, observed);
  EXPECT_EQ(observed.at("10.240.2.2:9352"), "TCP_REFUSED");      // icmp-port-unreachable
  EXPECT_EQ(observed.at("10.240.2.2:9353"), "TCP_UNREACHABLE");  // icmp-host-prohibited
}

TEST_F(FirewallLab, TheGatewayHostsOwnOutputAndInputChainsMatchRealConnections) {
  ASSERT_EQ(
      in_ns(kClient, {"/usr/sbin/nft", "-f", source_path("rules/firewall/lab/client-output.nft")}),
      "");
  const auto targets = all_targets();
  const auto predicted = evaluate(export_nft(kClient), Path::output, "", "bgpfwc0", targets);
  const auto observed = observe(targets);
  expect_same(predicted, observed);
  EXPECT_EQ(observed.at("10.240.2.2:5671"), "TCP_REFUSED");
  EXPECT_EQ(observed.at("10.240.2.3:443"), "TCP_UNREACHABLE");
}

TEST_F(FirewallLab, RepliesDroppedOnInputAreTimeoutsAndPredictedAsSuch) {
  ASSERT_EQ(in_ns(kClient, {"/usr/sbin/nft", "-f",
                            source_path("rules/firewall/lab/client-output-no-established.nft")}),
            "");
  const std::vector<Target> targets = {{"10.240.2.2", 443}, {"10.240.2.2", 5671}};
  const auto predicted = evaluate(export_nft(kClient), Path::output, "", "bgpfwc0", targets);
  EXPECT_TRUE(predicted.at("10.240.2.2:443").on_reply_path)
      << predicted.at("10.240.2.2:443").describe();
  const auto observed = observe(targets);
  expect_same(predicted, observed);
  EXPECT_EQ(observed.at("10.240.2.2:443"), "TCP_FILTERED");
}

}  // namespace
}  // namespace gwprobe::rules::firewall
