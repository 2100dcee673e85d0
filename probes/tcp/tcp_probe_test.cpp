// The TCP probe against loopback only: listeners on port 0, bound-but-not-listening ports
// (refused), and a listener whose accept queue is full (Linux then drops SYNs: filtered).
#include "probes/tcp/tcp_probe.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <thread>

#include "probes/resolve.hpp"
#include "probes/tcp/tcp_errors.hpp"
#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::probes::tcp {
namespace {
using namespace std::chrono_literals;
using core::Diagnosis;
using core::Status;
using gwprobe::testing::FullListener;
using gwprobe::testing::LoopbackSocket;

/// One port where 127.0.0.1 listens and [::1] refuses (bound, not listening).
struct SplitFamilies {
  std::unique_ptr<LoopbackSocket> v4;
  std::unique_ptr<LoopbackSocket> v6;

  SplitFamilies() {
    constexpr int kTries = 50;
    for (int i = 0; i < kTries; ++i) {
      v4 = std::make_unique<LoopbackSocket>("127.0.0.1", 8);
      v6 = std::make_unique<LoopbackSocket>("::1", -1, v4->port);
      if (v4->bound && v6->bound) return;
    }
    ADD_FAILURE() << "no port free on both 127.0.0.1 and ::1";
  }
  std::uint16_t port() const { return v4->port; }
};

core::ProbeResult probe(const std::string& host, std::uint16_t port, TcpOptions options = {},
                        core::Deadline deadline = core::Deadline::after(5s),
                        AddressCache* cache = nullptr) {
  ProbeContext context;
  context.deadline = deadline;
  context.addresses = cache;
  return run_tcp_probe(core::Target{host, port}, options, context);
}

struct ErrnoCase {
  int error;
  Diagnosis diagnosis;
  const char* name;
};

class FromErrno : public ::testing::TestWithParam<ErrnoCase> {};

TEST_P(FromErrno, MapsConnectErrorsToOneDiagnosis) {
  const auto mapped = from_errno(GetParam().error);
  EXPECT_EQ(mapped.diagnosis, GetParam().diagnosis) << GetParam().name;
  EXPECT_EQ(mapped.name, GetParam().name);
  EXPECT_FALSE(mapped.meaning.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FromErrno,
    ::testing::Values(ErrnoCase{0, Diagnosis::ok, "OK"},
                      ErrnoCase{ECONNREFUSED, Diagnosis::tcp_refused, "ECONNREFUSED"},
                      ErrnoCase{ECONNRESET, Diagnosis::tcp_refused, "ECONNRESET"},
                      ErrnoCase{ECONNABORTED, Diagnosis::tcp_refused, "ECONNABORTED"},
                      ErrnoCase{EHOSTUNREACH, Diagnosis::tcp_unreachable, "EHOSTUNREACH"},
                      ErrnoCase{ENETUNREACH, Diagnosis::tcp_unreachable, "ENETUNREACH"},
                      ErrnoCase{EACCES, Diagnosis::tcp_unreachable, "EACCES"},
                      ErrnoCase{EPERM, Diagnosis::tcp_unreachable, "EPERM"},
                      ErrnoCase{EADDRNOTAVAIL, Diagnosis::tcp_unreachable, "EADDRNOTAVAIL"},
                      ErrnoCase{EAFNOSUPPORT, Diagnosis::tcp_unreachable, "EAFNOSUPPORT"},
                      ErrnoCase{ENETDOWN, Diagnosis::tcp_unreachable, "ENETDOWN"},
                      ErrnoCase{ETIMEDOUT, Diagnosis::tcp_filtered, "ETIMEDOUT"},
                      ErrnoCase{EMFILE, Diagnosis::probe_error, "EMFILE"},
                      ErrnoCase{ENOBUFS, Diagnosis::probe_error, "ENOBUFS"},
                      ErrnoCase{EBADF, Diagnosis::probe_error, "errno"}));

TEST(FromErrno, TellsAdminProhibitedHostUnreachableAndLocalDenialApart) {
  EXPECT_NE(from_errno(EHOSTUNREACH).meaning.find("administratively prohibited"),
            std::string_view::npos);
  EXPECT_NE(from_errno(ENETUNREACH).meaning.find("no route"), std::string_view::npos);
  EXPECT_NE(from_errno(EPERM).meaning.find("on this machine"), std::string_view::npos);
  EXPECT_NE(from_errno(EACCES).meaning.find("on this machine"), std::string_view::npos);
}

TEST(TcpProbe, ConnectsToALoopbackListener) {
  LoopbackSocket listener("127.0.0.1", 8);
  const auto r = probe("127.0.0.1", listener.port);
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.diagnosis, Diagnosis::ok);
  EXPECT_EQ(r.kind, "tcp");
  const std::string peer = "127.0.0.1:" + std::to_string(listener.port);
  EXPECT_EQ(r.target, peer);
  EXPECT_EQ(r.message.rfind("connected to " + peer + " in ", 0), 0u) << r.message;
  EXPECT_EQ(r.fact_text("connected_to"), peer);
  ASSERT_EQ(r.phases.size(), 1u);  // a literal needs no resolve phase
  EXPECT_EQ(r.phases[0].name, "connect");
}

TEST(TcpProbe, RecordsTheSourceEndpointOfEachAttemptSoACaptureCanFindIt) {
  LoopbackSocket listener("127.0.0.1", 8);
  const auto r = probe("127.0.0.1", listener.port);
  ASSERT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  core::UniqueFd accepted(
      ::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  const auto client = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&peer));
  EXPECT_EQ(r.fact_text("local_endpoint"),
            client->with_port(ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port)));

  LoopbackSocket closed("127.0.0.1", -1);
  const auto refused = probe("127.0.0.1", closed.port);
  EXPECT_EQ(refused.diagnosis, Diagnosis::tcp_refused);
  EXPECT_EQ(refused.fact_text("local_endpoint").rfind("127.0.0.1:", 0), 0u);
}

TEST(TcpProbe, ConnectsOverIpv6Loopback) {
  LoopbackSocket listener("::1", 8);
  const auto r = probe("::1", listener.port);
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(r.fact_text("connected_to"), "[::1]:" + std::to_string(listener.port));
}

TEST(TcpProbe, RefusedOnAClosedLoopbackPort) {
  LoopbackSocket closed("127.0.0.1", -1);  // bound, not listening: the kernel answers RST
  const auto r = probe("127.0.0.1", closed.port);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused);
  EXPECT_EQ(r.message, "127.0.0.1:" + std::to_string(closed.port) +
                           " refused (ECONNREFUSED: TCP reset or ICMP port-unreachable)");
}

TEST(TcpProbe, FilteredWhenNoAnswerComesBeforeTheDeadline) {
  FullListener full("127.0.0.1");
  const auto start = std::chrono::steady_clock::now();
  const auto r = probe("127.0.0.1", full.listener.port, {}, core::Deadline::after(300ms));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_filtered) << r.message;
  EXPECT_NE(r.message.find("filtered (no answer within"), std::string::npos) << r.message;
  EXPECT_GE(took, 300ms);  // the deadline is honoured: not given up early...
  EXPECT_LT(took, 5s);     // ...nor overrun by the kernel's own SYN retries
}

TEST(TcpProbe, FilteredOverIpv6Too) {
  FullListener full("::1");
  const auto r = probe("::1", full.listener.port, {}, core::Deadline::after(200ms));
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_filtered) << r.message;
}

TEST(TcpProbe, CancellationWakesABlockedConnectPromptly) {
  FullListener full("127.0.0.1");
  ProbeContext context;
  context.deadline = core::Deadline::after(30s);
  std::thread canceller([token = context.cancel] {
    std::this_thread::sleep_for(50ms);
    token.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_tcp_probe(core::Target{"127.0.0.1", full.listener.port}, {}, context);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_LT(took, 2s);  // the token woke it, not the 30 s deadline
}

class TcpProbeByName : public ::testing::Test {
 protected:
  TcpProbeByName() {
    ResolverConfig config;
    config.resolv_conf = dir_.write("resolv.conf", "nameserver 127.0.0.1\n");
    config.port = dns_.port();
    config.hosts_file = dir_.write("hosts", "");
    config.attempt_timeout = 300ms;
    config.tries = 1;
    cache_ = std::make_unique<AddressCache>(config);
  }
  testing::MockDnsServer dns_;
  testing::ScratchDir dir_;
  std::unique_ptr<AddressCache> cache_;
};

TEST_F(TcpProbeByName, PassesWhenAnyAddressConnectsAndNamesTheOnesThatFailed) {
  SplitFamilies split;
  dns_.a("dual.test", "127.0.0.1").aaaa("dual.test", "::1");
  const auto r = probe("dual.test", split.port(), {}, core::Deadline::after(5s), cache_.get());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.diagnosis, Diagnosis::ok);
  EXPECT_EQ(r.fact_text("addresses"), "127.0.0.1, ::1");
  const std::string v4_peer = "127.0.0.1:" + std::to_string(split.port());
  const std::string v6_peer = "[::1]:" + std::to_string(split.port());
  EXPECT_EQ(r.fact_text("connected_to"), v4_peer);
  // Loopback answers at once, so the refused address is known when the other connects.
  EXPECT_EQ(r.fact_text("connect " + v6_peer),
            "refused (ECONNREFUSED: TCP reset or ICMP port-unreachable)");
  EXPECT_EQ(r.fact_text("connect " + v4_peer).rfind("connected in ", 0), 0u);
  EXPECT_NE(r.message.find("; " + v6_peer + " refused (ECONNREFUSED"), std::string::npos)
      << r.message;
  ASSERT_EQ(r.phases.size(), 2u);
  EXPECT_EQ(r.phases[0].name, "resolve");
  EXPECT_EQ(r.phases[1].name, "connect");
}

TEST_F(TcpProbeByName, FailsWhenEveryAddressMustConnectAndOneDoesNot) {
  SplitFamilies split;
  dns_.a("dual.test", "127.0.0.1").aaaa("dual.test", "::1");
  TcpOptions options;
  options.any_address_suffices = false;
  const auto r = probe("dual.test", split.port(), options, core::Deadline::after(5s), cache_.get());
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused) << r.message;
  EXPECT_EQ(r.message, "not every address of dual.test:" + std::to_string(split.port()) +
                           " connected: [::1]:" + std::to_string(split.port()) +
                           " refused (ECONNREFUSED: TCP reset or ICMP port-unreachable)");
}

TEST_F(TcpProbeByName, TheMostTellingFailureGivesTheDiagnosis) {
  // IPv4 filtered (full accept queue), IPv6 refused: an active refusal names the blocker best.
  FullListener full("127.0.0.1");
  LoopbackSocket v6_closed("::1", -1, full.listener.port);
  ASSERT_TRUE(v6_closed.bound);
  dns_.a("mixed.test", "127.0.0.1").aaaa("mixed.test", "::1");
  const auto r =
      probe("mixed.test", full.listener.port, {}, core::Deadline::after(300ms), cache_.get());
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused) << r.message;
  EXPECT_NE(r.message.find("filtered (no answer within"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("refused (ECONNREFUSED"), std::string::npos) << r.message;
}

TEST_F(TcpProbeByName, FamilyFilterLeavingNoAddressIsNodata) {
  dns_.a("v4only.test", "127.0.0.1");
  TcpOptions options;
  options.family = AddressFamily::ipv6;
  const auto r = probe("v4only.test", 443, options, core::Deadline::after(5s), cache_.get());
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_nodata) << r.message;
  EXPECT_NE(r.message.find("no IPv6 (AAAA) address"), std::string::npos);
}

TEST_F(TcpProbeByName, AResolutionFailureIsTheDnsDiagnosis) {
  const auto r = probe("nowhere.test", 443, {}, core::Deadline::after(5s), cache_.get());
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_nxdomain);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.message,
            "cannot resolve nowhere.test: NXDOMAIN (no such name) (" + dns_.endpoint() + ")");
}

TEST_F(TcpProbeByName, TenPortsOfOneHostResolveOnce) {
  dns_.a("many.test", "127.0.0.1");
  LoopbackSocket listener("127.0.0.1", 16);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(
        probe("many.test", listener.port, {}, core::Deadline::after(5s), cache_.get()).diagnosis,
        Diagnosis::ok);
  }
  EXPECT_EQ(dns_.queries("many.test"), 2);  // A + AAAA, once
}

TEST(ConnectTcp, HandsBackAConnectedSocketForTheNextLayer) {
  LoopbackSocket listener("127.0.0.1", 8);
  core::ProbeResult into;
  into.kind = "tls";
  ProbeContext context;
  context.deadline = core::Deadline::after(5s);
  auto connection = connect_tcp(core::Target{"127.0.0.1", listener.port}, {}, context, into);
  ASSERT_TRUE(connection) << into.message;
  EXPECT_EQ(connection.peer, "127.0.0.1:" + std::to_string(listener.port));
  EXPECT_EQ(into.kind, "tls");  // the caller's result is added to, not replaced
  EXPECT_EQ(into.fact_text("connected_to"), connection.peer);
  const char ping = 'x';
  EXPECT_EQ(::send(connection.fd.get(), &ping, 1, MSG_NOSIGNAL), 1);
}

TEST(ConnectTcp, ReportsFailureIntoTheCallersResult) {
  LoopbackSocket closed("127.0.0.1", -1);
  core::ProbeResult into;
  ProbeContext context;
  context.deadline = core::Deadline::after(5s);
  auto connection = connect_tcp(core::Target{"127.0.0.1", closed.port}, {}, context, into);
  EXPECT_FALSE(connection);
  EXPECT_EQ(into.diagnosis, Diagnosis::tcp_refused);
  EXPECT_EQ(into.status, Status::fail);
}

TEST(TcpProbe, APortOfZeroIsAProbeError) {
  const auto r = probe("127.0.0.1", 0);
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_EQ(r.status, Status::error);
}

}  // namespace
}  // namespace gwprobe::probes::tcp
