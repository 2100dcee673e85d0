// Lab scenarios for capture evidence: three network namespaces of our own (client, router with an
// nftables firewall, server), IPv4 and IPv6. The router drops, resets or answers with ICMP host
// unreachable per port, and the evidence must say so. Root only (skipped loudly otherwise); the
// namespaces are created for the suite and deleted after it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <regex>
#include <thread>

#include "core/unique_fd.hpp"
#include "probes/capture/capture_session.hpp"
#include "probes/tcp/tcp_probe.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::probes::capture {
namespace {

using core::UniqueFd;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Ports the router treats differently (nftables forward chain in the router namespace).
constexpr std::uint16_t kOpenPort = 443;
constexpr std::uint16_t kDropPort = 9350;
constexpr std::uint16_t kResetPort = 9351;
constexpr std::uint16_t kHostUnreachablePort = 9353;
constexpr std::uint16_t kMidStreamPort = 9357;  // reset only once the test adds the rule
constexpr std::uint16_t kPorts[] = {kOpenPort, kDropPort, kResetPort, kHostUnreachablePort,
                                    kMidStreamPort};
// Linux retransmits a SYN after 1 s, then 2 s later: waiting 2.5 s sees two SYNs.
constexpr auto kDropWait = 2500ms;
constexpr auto kAnswerWait = 3000ms;

const std::string kIp = "/usr/sbin/ip";
const std::string kNft = "/usr/sbin/nft";

/// Names unique to this process: namespaces cap{c,m,s}<pid>, veths cap<pid>{a,b,c,d}.
struct LabNames {
  std::string suffix = std::to_string(::getpid());
  std::string client = "capc" + suffix, router = "capm" + suffix, server = "caps" + suffix;
  std::string client_if = "cap" + suffix + "a", router_client_if = "cap" + suffix + "b";
  std::string router_server_if = "cap" + suffix + "c", server_if = "cap" + suffix + "d";
};

struct Family {
  bool v6 = false;
  std::string client() const { return v6 ? "fd39:1::2" : "10.239.1.2"; }
  std::string router() const { return v6 ? "fd39:1::1" : "10.239.1.1"; }
  std::string server() const { return v6 ? "fd39:2::2" : "10.239.2.2"; }
  std::string target(std::uint16_t port) const {
    return v6 ? "[" + server() + "]:" + std::to_string(port)
              : server() + ":" + std::to_string(port);
  }
};

bool run(const std::vector<std::string>& argv, const std::string& input = {}) {
  gwprobe::testing::ProcessOptions options;
  options.stdin_data = input;
  options.timeout = 10s;
  const auto r = gwprobe::testing::run_process(argv, options);
  if (r.exit_code != 0) {
    std::cerr << "lab: command failed (" << r.exit_code << "):";
    for (const auto& a : argv) std::cerr << " " << a;
    std::cerr << "\n" << r.err;
  }
  return r.exit_code == 0;
}

/// Deletes namespaces left by an earlier run of this test whose process is gone.
void delete_stale_namespaces() {
  const std::regex ours("^cap[cms]([0-9]+)$");
  const std::filesystem::path dir = "/var/run/netns";
  if (!std::filesystem::exists(dir)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (std::regex_match(name, m, ours) && !std::filesystem::exists("/proc/" + m[1].str())) {
      run({kIp, "netns", "del", name});
    }
  }
}

class Lab {
 public:
  bool up() {
    delete_stale_namespaces();
    down();
    const auto& n = names_;
    bool ok = true;
    for (const auto& ns : {n.client, n.router, n.server}) {
      ok = ok && run({kIp, "netns", "add", ns}) && run({kIp, "-n", ns, "link", "set", "lo", "up"});
    }
    ok = ok &&
         run({kIp, "link", "add", n.client_if, "netns", n.client, "type", "veth", "peer", "name",
              n.router_client_if, "netns", n.router}) &&
         run({kIp, "link", "add", n.router_server_if, "netns", n.router, "type", "veth", "peer",
              "name", n.server_if, "netns", n.server});
    struct Address {
      std::string ns, dev, v4, v6;
    };
    const Address addresses[] = {{n.client, n.client_if, "10.239.1.2/24", "fd39:1::2/64"},
                                 {n.router, n.router_client_if, "10.239.1.1/24", "fd39:1::1/64"},
                                 {n.router, n.router_server_if, "10.239.2.1/24", "fd39:2::1/64"},
                                 {n.server, n.server_if, "10.239.2.2/24", "fd39:2::2/64"}};
    for (const auto& a : addresses) {
      ok = ok && run({kIp, "-n", a.ns, "addr", "add", a.v4, "dev", a.dev}) &&
           run({kIp, "-n", a.ns, "addr", "add", a.v6, "dev", a.dev, "nodad"}) &&
           run({kIp, "-n", a.ns, "link", "set", a.dev, "up"});
    }
    ok = ok && run({kIp, "-n", n.client, "route", "add", "default", "via", "10.239.1.1"}) &&
         run({kIp, "-n", n.client, "-6", "route", "add", "default", "via", "fd39:1::1"}) &&
         run({kIp, "-n", n.server, "route", "add", "default", "via", "10.239.2.1"}) &&
         run({kIp, "-n", n.server, "-6", "route", "add", "default", "via", "fd39:2::1"}) &&
         run({kIp, "netns", "exec", n.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"}) &&
         run({kIp, "netns", "exec", n.router, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
    const std::string ruleset =
        "table inet capfw {\n"
        "  chain midstream {}\n"
        "  chain forward_filter {\n"
        "    type filter hook forward priority 0; policy accept;\n"
        "    tcp dport " +
        std::to_string(kDropPort) +
        " drop\n"
        "    tcp dport " +
        std::to_string(kResetPort) +
        " reject with tcp reset\n"
        "    tcp dport " +
        std::to_string(kHostUnreachablePort) +
        " reject with icmpx type host-unreachable\n"
        "    jump midstream\n"
        "  }\n"
        "}\n";
    ok = ok && run({kIp, "netns", "exec", n.router, kNft, "-f", "-"}, ruleset);
    return ok;
  }

  void down() {
    for (const auto& ns : {names_.client, names_.router, names_.server}) {
      if (std::filesystem::exists("/var/run/netns/" + ns)) run({kIp, "netns", "del", ns});
    }
  }

  bool reset_mid_stream(bool on) {
    const auto& n = names_;
    if (!on)
      return run(
          {kIp, "netns", "exec", n.router, kNft, "flush", "chain", "inet", "capfw", "midstream"});
    return run({kIp, "netns", "exec", n.router, kNft, "add", "rule", "inet", "capfw", "midstream",
                "tcp", "dport", std::to_string(kMidStreamPort), "reject", "with", "tcp", "reset"});
  }

  const LabNames& names() const { return names_; }

 private:
  LabNames names_;
};

/// Runs `fn` on a thread that has entered namespace `ns` (network namespaces are per thread,
/// so the test process itself stays where it was).
void in_namespace(const std::string& ns, const std::function<void()>& fn) {
  std::thread t([&] {
    UniqueFd fd(::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd) << ns;
    ASSERT_EQ(::setns(fd.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    fn();
  });
  t.join();
}

sockaddr_storage socket_address(const std::string& ip, std::uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (ip.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr);
    in6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &in->sin_addr);
    in->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

/// Listens on every lab port of the server address (both families) and accepts until stopped.
class Server {
 public:
  explicit Server(const std::string& ns) {
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    std::promise<bool> ready;
    auto listening = ready.get_future();
    thread_ = std::thread([this, ns, &ready] {
      UniqueFd netns(::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
      if (!netns || ::setns(netns.get(), CLONE_NEWNET) != 0) {
        ready.set_value(false);
        return;
      }
      std::vector<UniqueFd> listeners;
      for (const auto& family : {Family{false}, Family{true}}) {
        for (auto port : kPorts) {
          socklen_t len = 0;
          auto ss = socket_address(family.server(), port, len);
          UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
          const int one = 1;
          ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
              ::listen(fd.get(), 16) != 0) {
            ready.set_value(false);
            return;
          }
          listeners.push_back(std::move(fd));
        }
      }
      ready.set_value(true);
      serve(listeners);
    });
    ok_ = listening.get();
  }
  ~Server() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  bool ok() const { return ok_; }

 private:
  void serve(const std::vector<UniqueFd>& listeners) {
    std::vector<UniqueFd> accepted;  // held open: the client decides when connections end
    std::vector<pollfd> fds{pollfd{stop_.get(), POLLIN, 0}};
    for (const auto& l : listeners) fds.push_back(pollfd{l.get(), POLLIN, 0});
    while (::poll(fds.data(), fds.size(), -1) >= 0 && fds[0].revents == 0) {
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) {
          accepted.emplace_back(::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
        }
      }
    }
  }
  UniqueFd stop_;
  std::thread thread_;
  bool ok_ = false;
};

/// The TCP probe against the lab server, bounded by `wait`.
core::ProbeResult tcp_probe(const Family& family, std::uint16_t port,
                            std::chrono::milliseconds wait) {
  ProbeContext context;
  context.deadline = core::Deadline::after(wait);
  auto r = tcp::run_tcp_probe(core::Target{family.server(), port}, {}, context);
  r.target = family.target(port);
  return r;
}

CaptureRequest lab_request(const Family& family, const std::filesystem::path& file) {
  CaptureRequest request;
  for (auto port : kPorts) request.endpoints.push_back(CaptureEndpoint{family.server(), port, {}});
  request.file = file;
  return request;
}

class CaptureLab : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    lab_ = new Lab;
    lab_up_ = lab_->up();
    if (lab_up_) server_ = new Server(lab_->names().server);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    if (lab_ != nullptr) lab_->down();
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    if (::geteuid() != 0) {
      std::cerr << "*** SKIPPED: the capture lab needs root (network namespaces, nftables, "
                   "packet capture) ***\n";
      GTEST_SKIP() << "needs root";
    }
    ASSERT_TRUE(lab_up_) << "the lab namespaces could not be built";
    ASSERT_TRUE(server_ && server_->ok()) << "the lab server could not listen";
    dir_ = std::filesystem::temp_directory_path() /
           ("gwprobe-capture-lab-" + lab_->names().suffix + (family_.v6 ? "-v6" : "-v4"));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  /// Captures in the client namespace around `probes`, then attaches evidence to their results.
  CaptureStats capture_around(const std::function<std::vector<core::ProbeResult>()>& probes,
                              std::vector<core::ProbeResult>& results,
                              std::vector<std::string>* interfaces = nullptr) {
    CaptureStats stats;
    in_namespace(lab_->names().client, [&] {
      auto session = start_capture(lab_request(family_, dir_ / "lab.pcap"));
      ASSERT_TRUE(session) << session.error().describe();
      if (interfaces) *interfaces = (*session)->interfaces();
      results = probes();
      ASSERT_TRUE((*session)->stop());
      stats = (*session)->stats();
      attach_evidence(results, **session);
      std::cerr << "lab capture: " << (*session)->summary() << "\n";
      for (const auto& r : results) std::cerr << "  " << r.target << ": " << r.message << "\n";
    });
    return stats;
  }

  Family family_{GetParam()};
  std::filesystem::path dir_;
  static Lab* lab_;
  static bool lab_up_;
  static Server* server_;
};

Lab* CaptureLab::lab_ = nullptr;
bool CaptureLab::lab_up_ = false;
Server* CaptureLab::server_ = nullptr;

INSTANTIATE_TEST_SUITE_P(Families, CaptureLab, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "IPv6" : "IPv4"; });

TEST_P(CaptureLab, ADropRuleShowsAsRetransmittedSynsWithNoAnswer) {
  std::vector<core::ProbeResult> results;
  std::vector<std::string> interfaces;
  capture_around([&] { return std::vector{tcp_probe(family_, kDropPort, kDropWait)}; }, results,
                 &interfaces);
  EXPECT_EQ(interfaces, std::vector<std::string>{lab_->names().client_if});
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  EXPECT_EQ(r.diagnosis, core::Diagnosis::tcp_filtered);
  EXPECT_GE(std::stoi(r.fact_text(fact::syns_sent)), 2);
  EXPECT_GE(std::stoi(r.fact_text(fact::syn_retransmits)), 1);
  EXPECT_EQ(r.fact_text(fact::syn_answered), "false");
  EXPECT_THAT(r.message, HasSubstr("SYNs to " + family_.target(kDropPort)));
  EXPECT_THAT(r.message, HasSubstr("no answer (no SYN-ACK, reset or ICMP error)"));
}

TEST_P(CaptureLab, ARejectWithTcpResetIsAnInjectedResetWithAnotherTtlThanTheServers) {
  std::vector<core::ProbeResult> results;
  capture_around(
      [&] {
        // The open port gives the server's own TTL to compare the router's reset with.
        return std::vector{tcp_probe(family_, kOpenPort, kAnswerWait),
                           tcp_probe(family_, kResetPort, kAnswerWait)};
      },
      results);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, core::Status::pass) << results[0].message;
  EXPECT_EQ(results[0].fact(fact::evidence), nullptr);
  const auto& r = results[1];
  EXPECT_EQ(r.diagnosis, core::Diagnosis::tcp_refused);
  EXPECT_EQ(r.fact_text(fact::rst_injected), "true");
  EXPECT_EQ(r.fact_text(fact::rst_ttl), "64");     // the router, answering directly
  EXPECT_EQ(r.fact_text(fact::server_ttl), "63");  // the server, one router further
  EXPECT_EQ(r.fact_text(fact::middlebox_hops), "1");
  EXPECT_THAT(r.message, HasSubstr("injected by a middlebox about 1 hop away"));
}

TEST_P(CaptureLab, AResetInjectedMidStreamDiffersFromTheSynAckOfTheSameConnection) {
  std::vector<core::ProbeResult> results;
  capture_around(
      [&] {
        // What the idle probe sees: a connection that worked, then a reset on the next send.
        core::ProbeResult r;
        r.kind = "idle";
        r.target = family_.target(kMidStreamPort);
        ProbeContext context;
        context.deadline = core::Deadline::after(kAnswerWait);
        auto connection =
            tcp::connect_tcp(core::Target{family_.server(), kMidStreamPort}, {}, context, r);
        EXPECT_TRUE(connection) << r.message;
        EXPECT_TRUE(lab_->reset_mid_stream(true));
        const int fd = connection.fd.get();
        EXPECT_EQ(::send(fd, "hello", 5, MSG_NOSIGNAL), 5);
        pollfd p{fd, POLLIN, 0};
        EXPECT_EQ(::poll(&p, 1, context.deadline.remaining_ms()), 1);
        char buf[8];
        EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), -1);
        EXPECT_EQ(errno, ECONNRESET);
        EXPECT_TRUE(lab_->reset_mid_stream(false));
        r.status = core::Status::fail;
        r.diagnosis = core::Diagnosis::idle_cut;
        r.message = "connection reset";
        return std::vector{r};
      },
      results);
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  EXPECT_EQ(r.fact_text(fact::rst_injected), "true");
  EXPECT_EQ(r.fact_text(fact::rst_ttl), "64");
  EXPECT_EQ(r.fact_text(fact::server_ttl), "63");
  EXPECT_EQ(r.fact_text(fact::close_by), "server");
  EXPECT_EQ(r.fact_text(fact::close_with), "rst");
  EXPECT_THAT(r.message,
              HasSubstr("while the server's packets on this connection came with TTL 63"));
}

TEST_P(CaptureLab, AnIcmpHostUnreachableNamesTheRouter) {
  std::vector<core::ProbeResult> results;
  const auto stats = capture_around(
      [&] { return std::vector{tcp_probe(family_, kHostUnreachablePort, kAnswerWait)}; }, results);
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  EXPECT_EQ(r.diagnosis, core::Diagnosis::tcp_unreachable);
  EXPECT_EQ(r.fact_text(fact::icmp_from), family_.router());
  EXPECT_EQ(r.fact_text(fact::icmp_type), family_.v6 ? "1" : "3");
  EXPECT_EQ(r.fact_text(fact::icmp_code), family_.v6 ? "3" : "1");
  EXPECT_THAT(r.message, HasSubstr("from router " + family_.router()));
  // The file holds the SYN and the ICMP error, and tcpdump reads it.
  const auto reading =
      gwprobe::testing::run_process({"/usr/bin/tcpdump", "-n", "-r", (dir_ / "lab.pcap").string()});
  EXPECT_EQ(reading.exit_code, 0) << reading.err;
  EXPECT_THAT(reading.out, HasSubstr(family_.v6 ? "ICMP6, destination unreachable"
                                                : "host " + family_.server() + " unreachable"));
  EXPECT_EQ(stats.packets_written, stats.packets_seen);
}

TEST_P(CaptureLab, TargetsRoutedThroughDifferentInterfacesAreCapturedOnEachIntoOneFile) {
  std::vector<std::string> interfaces;
  std::vector<core::ProbeResult> results;
  CaptureStats stats;
  in_namespace(lab_->names().client, [&] {
    // A closed port on the client namespace's own loopback, next to the lab server.
    const bool v6 = family_.v6;
    const std::string local = v6 ? "::1" : "127.0.0.1";
    socklen_t len = 0;
    auto ss = socket_address(local, 0, len);
    UniqueFd closed(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(closed.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
    ::getsockname(closed.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    const std::uint16_t closed_port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    auto request = lab_request(family_, dir_ / "lab.pcap");
    request.endpoints.push_back(CaptureEndpoint{local, closed_port, {}});
    auto session = start_capture(request);
    ASSERT_TRUE(session) << session.error().describe();
    interfaces = (*session)->interfaces();
    ProbeContext context;
    context.deadline = core::Deadline::after(kAnswerWait);
    results.push_back(tcp_probe(family_, kResetPort, kAnswerWait));
    results.push_back(tcp::run_tcp_probe(core::Target{local, closed_port}, {}, context));
    ASSERT_TRUE((*session)->stop());
    stats = (*session)->stats();
    attach_evidence(results, **session);
  });
  std::vector<std::string> expected = {lab_->names().client_if, "lo"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(interfaces, expected);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_THAT(results[0].fact_text(fact::rst_ttl), "64");
  EXPECT_THAT(results[1].fact_text(fact::rst_ttl), "64");
  EXPECT_EQ(stats.packets_seen, 4u);  // SYN + RST on each interface
  const auto reading =
      gwprobe::testing::run_process({"/usr/bin/tcpdump", "-n", "-r", (dir_ / "lab.pcap").string()});
  EXPECT_EQ(reading.exit_code, 0) << reading.err;
  EXPECT_EQ(std::count(reading.out.begin(), reading.out.end(), '\n'), 4);
}

TEST_P(CaptureLab, AnInterfaceThatDisappearsIsReportedAndTheOthersKeepCapturing) {
  const auto& n = lab_->names();
  const std::string spare = "cap" + n.suffix + "e", peer = "cap" + n.suffix + "f";
  ASSERT_TRUE(
      run({kIp, "-n", n.client, "link", "add", spare, "type", "veth", "peer", "name", peer}));
  ASSERT_TRUE(run({kIp, "-n", n.client, "link", "set", spare, "up"}));
  std::vector<core::ProbeResult> results;
  std::optional<core::Result<void>> stopped;
  in_namespace(n.client, [&] {
    auto request = lab_request(family_, dir_ / "lab.pcap");
    request.interfaces = {n.client_if, spare};
    auto session = start_capture(request);
    ASSERT_TRUE(session) << session.error().describe();
    ASSERT_TRUE(run({kIp, "-n", n.client, "link", "del", spare}));
    results.push_back(tcp_probe(family_, kResetPort, kAnswerWait));
    stopped.emplace((*session)->stop());
    attach_evidence(results, **session);
  });
  ASSERT_TRUE(stopped);
  ASSERT_FALSE(*stopped);
  std::cerr << "stop(): " << stopped->error().describe() << "\n";
  EXPECT_THAT(stopped->error().message, HasSubstr("(interface " + spare + ")"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].fact_text(fact::rst_ttl), "64");
}

}  // namespace
}  // namespace gwprobe::probes::capture
