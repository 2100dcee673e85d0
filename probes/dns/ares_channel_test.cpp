#include "probes/dns/ares_channel.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::probes::dns {
namespace {
using namespace std::chrono_literals;
using core::Diagnosis;
using core::FailureKind;
using testing::MockDnsServer;
using testing::ScratchDir;

struct AresCase {
  int status;
  Diagnosis diagnosis;
  FailureKind kind;
  const char* name;
};

class FromAres : public ::testing::TestWithParam<AresCase> {};

TEST_P(FromAres, MapsEachStatusToOneDiagnosisAndKind) {
  const auto mapped = from_ares(GetParam().status);
  EXPECT_EQ(mapped.diagnosis, GetParam().diagnosis) << GetParam().name;
  if (GetParam().status != ARES_SUCCESS) {
    EXPECT_EQ(mapped.kind, GetParam().kind);
  }
  EXPECT_EQ(mapped.name, GetParam().name);
  EXPECT_FALSE(mapped.text.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FromAres,
    ::testing::Values(
        AresCase{ARES_SUCCESS, Diagnosis::ok, FailureKind::internal, "ARES_SUCCESS"},
        AresCase{ARES_ENOTFOUND, Diagnosis::dns_nxdomain, FailureKind::not_found, "ARES_ENOTFOUND"},
        AresCase{ARES_ENODATA, Diagnosis::dns_nodata, FailureKind::not_found, "ARES_ENODATA"},
        AresCase{ARES_ETIMEOUT, Diagnosis::dns_timeout, FailureKind::timeout, "ARES_ETIMEOUT"},
        AresCase{ARES_ESERVFAIL, Diagnosis::dns_servfail, FailureKind::network, "ARES_ESERVFAIL"},
        AresCase{ARES_EREFUSED, Diagnosis::dns_refused, FailureKind::network, "ARES_EREFUSED"},
        AresCase{ARES_ECONNREFUSED, Diagnosis::dns_refused, FailureKind::network,
                 "ARES_ECONNREFUSED"},
        AresCase{ARES_EFORMERR, Diagnosis::dns_servfail, FailureKind::protocol, "ARES_EFORMERR"},
        AresCase{ARES_ENOTIMP, Diagnosis::dns_servfail, FailureKind::protocol, "ARES_ENOTIMP"},
        AresCase{ARES_EBADRESP, Diagnosis::dns_servfail, FailureKind::protocol, "ARES_EBADRESP"},
        AresCase{ARES_ECANCELLED, Diagnosis::probe_cancelled, FailureKind::cancelled,
                 "ARES_ECANCELLED"},
        AresCase{ARES_EDESTRUCTION, Diagnosis::probe_cancelled, FailureKind::cancelled,
                 "ARES_EDESTRUCTION"},
        AresCase{ARES_EBADNAME, Diagnosis::probe_error, FailureKind::invalid_input,
                 "ARES_EBADNAME"},
        AresCase{ARES_EFILE, Diagnosis::probe_error, FailureKind::io, "ARES_EFILE"},
        AresCase{ARES_ENOMEM, Diagnosis::probe_error, FailureKind::internal, "ARES_ENOMEM"},
        AresCase{ARES_EBADFLAGS, Diagnosis::probe_error, FailureKind::internal, "ARES_EBAD*"},
        AresCase{9999, Diagnosis::probe_error, FailureKind::internal, "ARES_UNKNOWN"}));

TEST(FromAres, EveryDnsFailureDiagnosisIsReachable) {
  std::set<Diagnosis> seen;
  for (int status = 0; status <= ARES_ESERVICE; ++status) seen.insert(from_ares(status).diagnosis);
  for (auto d : {Diagnosis::dns_nxdomain, Diagnosis::dns_nodata, Diagnosis::dns_timeout,
                 Diagnosis::dns_servfail, Diagnosis::dns_refused}) {
    EXPECT_TRUE(seen.count(d)) << core::to_code(d);
  }
}

ChannelConfig system_channel(const ScratchDir& dir, std::string_view resolv_conf,
                             std::uint16_t port) {
  ChannelConfig config;
  config.resolv_conf = dir.write("resolv.conf", resolv_conf);
  config.port = port;
  config.attempt_timeout = 300ms;
  config.tries = 1;
  return config;
}

Resolution run_one(std::string_view host, const ChannelConfig& config,
                   core::Deadline deadline = core::Deadline::after(5s)) {
  AresLookup lookup(host, config);
  AresLookup* const lookups[] = {&lookup};
  drive_lookups(lookups, deadline, core::CancelToken());
  EXPECT_TRUE(lookup.finished());
  return lookup.resolution();
}

TEST(AresLookup, NamesTheServerWhoseReplySettledIt) {
  // Two resolv.conf servers on one port: the first fails, c-ares moves on to the second.
  MockDnsServer first("127.0.0.1");
  MockDnsServer second("127.0.0.2", first.port());
  first.rcode("split.test", MockDnsServer::Rcode::servfail);
  second.a("split.test", "40.1.2.3");
  ScratchDir dir;
  const auto r = run_one("split.test", system_channel(dir,
                                                      "nameserver 127.0.0.1\nnameserver "
                                                      "127.0.0.2\n",
                                                      first.port()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.server, second.endpoint());
  EXPECT_GE(first.queries("split.test"), 1);
}

TEST(AresLookup, ListsEveryServerAskedWhenNoneReplied) {
  MockDnsServer first("127.0.0.1");
  MockDnsServer second("127.0.0.2", first.port());
  first.drop("quiet.test");
  second.drop("quiet.test");
  ScratchDir dir;
  const auto r =
      run_one("quiet.test",
              system_channel(dir, "nameserver 127.0.0.1\nnameserver 127.0.0.2\n", first.port()));
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_timeout);
  EXPECT_FALSE(r.cut_short);  // c-ares's own verdict after its tries
  EXPECT_EQ(r.server, first.endpoint() + ", " + second.endpoint());
}

TEST(AresLookup, FollowsTruncationOverTcp) {
  MockDnsServer dns;
  dns.truncate("big.test").a("big.test", "40.1.2.3").aaaa("big.test", "2603::3");
  ScratchDir dir;
  const auto r = run_one("big.test", system_channel(dir, "nameserver 127.0.0.1\n", dns.port()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.addresses.size(), 2u);
  EXPECT_GE(dns.tcp_queries(), 2);
}

TEST(AresLookup, RcodeRejectionsAreToldApartFromAClosedPortOverUdpAndTcp) {
  // c-ares 1.18 reports all three as ARES_ECONNREFUSED; the lookup reads the reply's rcode.
  MockDnsServer dns;
  dns.rcode("servfail.test", MockDnsServer::Rcode::servfail)
      .rcode("refused.test", MockDnsServer::Rcode::refused)
      .rcode("notimp.test", MockDnsServer::Rcode::notimp)
      .truncate("tcp-servfail.test")
      .rcode("tcp-servfail.test", MockDnsServer::Rcode::servfail);
  ScratchDir dir;
  const auto config = system_channel(dir, "nameserver 127.0.0.1\n", dns.port());
  const auto servfail = run_one("servfail.test", config);
  EXPECT_EQ(servfail.diagnosis, Diagnosis::dns_servfail);
  EXPECT_EQ(servfail.cause, "ARES_ESERVFAIL");
  EXPECT_EQ(servfail.server, dns.endpoint());
  EXPECT_EQ(run_one("refused.test", config).cause, "ARES_EREFUSED");
  EXPECT_EQ(run_one("notimp.test", config).cause, "ARES_ENOTIMP");
  const auto over_tcp = run_one("tcp-servfail.test", config);
  EXPECT_EQ(over_tcp.diagnosis, Diagnosis::dns_servfail);
  EXPECT_GE(dns.tcp_queries(), 1);

  std::uint16_t closed_port = 0;
  {
    MockDnsServer gone;
    closed_port = gone.port();
  }
  const auto closed =
      run_one("any.test", system_channel(dir, "nameserver 127.0.0.1\n", closed_port));
  EXPECT_EQ(closed.diagnosis, Diagnosis::dns_refused);
  EXPECT_EQ(closed.cause, "ARES_ECONNREFUSED");
  EXPECT_EQ(closed.server, "127.0.0.1:" + std::to_string(closed_port));
}

TEST(AresLookup, AllServersFailingNamesTheLastThatReplied) {
  MockDnsServer first("127.0.0.1");
  MockDnsServer second("127.0.0.2", first.port());
  first.rcode("down.test", MockDnsServer::Rcode::servfail);
  second.rcode("down.test", MockDnsServer::Rcode::servfail);
  ScratchDir dir;
  const auto r =
      run_one("down.test",
              system_channel(dir, "nameserver 127.0.0.1\nnameserver 127.0.0.2\n", first.port()));
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_servfail);
  EXPECT_EQ(r.server, second.endpoint());
  EXPECT_GE(first.queries("down.test"), 1);
  EXPECT_GE(second.queries("down.test"), 1);
}

TEST(AresLookup, ExplicitServersAreAskedWithoutSearchDomains) {
  MockDnsServer dns;
  dns.a("ref.test", "40.1.2.3");
  ChannelConfig config;
  config.servers = {DnsServer{*IpAddress::parse("127.0.0.1"), dns.port()}};
  config.attempt_timeout = 300ms;
  config.tries = 1;
  const auto r = run_one("missing.ref.test", config);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_nxdomain);
  EXPECT_EQ(dns.total_queries(), 2);  // A and AAAA for the name as given, nothing appended
  EXPECT_TRUE(run_one("ref.test", config).ok());
}

TEST(AresLookup, ManyLookupsRunTogetherInOneLoop) {
  MockDnsServer dns;
  dns.a("fast.test", "40.1.2.3").drop("slow.test");
  ScratchDir dir;
  auto config = system_channel(dir, "nameserver 127.0.0.1\n", dns.port());
  config.attempt_timeout = 10s;
  AresLookup fast("fast.test", config);
  AresLookup slow("slow.test", config);
  AresLookup* const lookups[] = {&fast, &slow};
  const auto start = std::chrono::steady_clock::now();
  drive_lookups(lookups, core::Deadline::after(300ms), core::CancelToken());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(fast.resolution().ok());
  const auto late = slow.resolution();
  EXPECT_EQ(late.diagnosis, Diagnosis::dns_timeout);
  EXPECT_TRUE(late.cut_short);
}

}  // namespace
}  // namespace gwprobe::probes::dns
