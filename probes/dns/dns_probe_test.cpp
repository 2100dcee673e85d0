// The DNS probe end to end against MockDnsServer. The system-resolver path is the real one:
// a resolv.conf (in a ScratchDir) names the mock's address and system_resolver_port its port, so
// c-ares reads the file exactly as it reads /etc/resolv.conf. No test reaches the real resolver.
#include "probes/dns/dns_probe.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::probes::dns {
namespace {
using namespace std::chrono_literals;
using core::Diagnosis;
using core::Status;
using testing::MockDnsServer;
using testing::ScratchDir;
using Rcode = MockDnsServer::Rcode;

class DnsProbe : public ::testing::Test {
 protected:
  /// Options whose system resolver is `system_dns_` and whose hosts file is empty.
  DnsOptions options() const {
    DnsOptions o;
    o.resolv_conf = dir_.write("resolv.conf", "nameserver " + system_dns_.host() + "\n");
    o.system_resolver_port = system_dns_.port();
    o.hosts_file = dir_.write("hosts", "");
    o.attempt_timeout = 300ms;
    o.tries = 1;
    return o;
  }
  core::ProbeResult probe(const std::string& host, const DnsOptions& o,
                          core::Deadline deadline = core::Deadline::after(5s)) const {
    ProbeContext context;
    context.deadline = deadline;
    return run_dns_probe(core::Target{host, 0}, o, context);
  }

  MockDnsServer system_dns_;
  ScratchDir dir_;
};

TEST_F(DnsProbe, PassesWithAddressesChainTtlAndServerAsFacts) {
  system_dns_.cname("alias1.corp.test", "alias2.corp.test", 300)
      .cname("alias2.corp.test", "target.corp.test", 120)
      .a("target.corp.test", "40.1.2.3", 60)
      .aaaa("target.corp.test", "2603:1030::7", 90);
  const auto r = probe("alias1.corp.test", options());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.diagnosis, Diagnosis::ok);
  EXPECT_EQ(r.kind, "dns");
  EXPECT_EQ(r.target, "alias1.corp.test");
  EXPECT_EQ(r.fact_text("addresses"), "40.1.2.3, 2603:1030::7");
  EXPECT_EQ(r.fact_text("cname_chain"), "alias2.corp.test, target.corp.test");
  EXPECT_EQ(r.fact_text("min_ttl"), "60");
  EXPECT_EQ(r.fact_text("server"), system_dns_.endpoint());
  EXPECT_EQ(r.fact_text("answered_by_hosts_file"), "false");
  EXPECT_EQ(r.message, "system resolver " + system_dns_.endpoint() +
                           ": 40.1.2.3, 2603:1030::7 (CNAME alias2.corp.test -> target.corp.test)");
  ASSERT_EQ(r.phases.size(), 1u);
  EXPECT_EQ(r.phases[0].name, "resolve");
}

TEST_F(DnsProbe, NxdomainNamesTheResolver) {
  const auto r = probe("mybus.servicebus.windows.net", options());
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_nxdomain);
  EXPECT_EQ(r.message, "system resolver " + system_dns_.endpoint() + ": NXDOMAIN (no such name)");
}

TEST_F(DnsProbe, NodataWhenTheNameHasNoAddressRecords) {
  system_dns_.nodata("mx-only.test");
  const auto r = probe("mx-only.test", options());
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_nodata) << r.message;
}

TEST_F(DnsProbe, ServfailAndRefusedRcodes) {
  system_dns_.rcode("broken.test", Rcode::servfail).rcode("closed.test", Rcode::refused);
  EXPECT_EQ(probe("broken.test", options()).diagnosis, Diagnosis::dns_servfail);
  const auto refused = probe("closed.test", options());
  EXPECT_EQ(refused.diagnosis, Diagnosis::dns_refused);
  EXPECT_NE(refused.message.find("REFUSED"), std::string::npos) << refused.message;
}

TEST_F(DnsProbe, RefusedWhenNothingListensOnTheResolverPort) {
  auto o = options();
  // A UDP port that is certainly closed: bind one, note it, close it.
  std::uint16_t closed_port = 0;
  {
    MockDnsServer gone("127.0.0.1");
    closed_port = gone.port();
  }
  o.system_resolver_port = closed_port;
  const auto r = probe("any.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_refused) << r.message;
  EXPECT_NE(r.message.find("connection refused"), std::string::npos) << r.message;
}

TEST_F(DnsProbe, TimeoutWhenTheServerNeverAnswersAfterCaresTries) {
  system_dns_.drop("dead.test");
  const auto r = probe("dead.test", options(), core::Deadline::after(10s));
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_timeout) << r.message;
  EXPECT_NE(r.message.find("timeout"), std::string::npos);
}

TEST_F(DnsProbe, TimeoutAtTheProbeDeadlineBeforeCaresGivesUp) {
  system_dns_.drop("dead.test");
  auto o = options();
  o.attempt_timeout = 20s;
  const auto start = std::chrono::steady_clock::now();
  const auto r = probe("dead.test", o, core::Deadline::after(250ms));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_timeout) << r.message;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
  EXPECT_NE(r.message.find("no answer within"), std::string::npos) << r.message;
}

TEST_F(DnsProbe, CancellationWakesABlockedProbePromptly) {
  system_dns_.drop("dead.test");
  auto o = options();
  o.attempt_timeout = 20s;
  ProbeContext context;
  context.deadline = core::Deadline::after(30s);
  std::thread canceller([token = context.cancel] {
    std::this_thread::sleep_for(50ms);
    token.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_dns_probe(core::Target{"dead.test", 0}, o, context);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_LT(took, 2s);  // woken by the token, not by the 30 s deadline
}

TEST_F(DnsProbe, PrivateAnswerUnlessExpected) {
  system_dns_.a("sinkholed.test", "0.0.0.0").a("pe.test", "10.20.0.4");
  const auto sinkhole = probe("sinkholed.test", options());
  EXPECT_EQ(sinkhole.diagnosis, Diagnosis::dns_private_answer);
  EXPECT_NE(sinkhole.message.find("0.0.0.0 (unspecified: a sinkhole)"), std::string::npos)
      << sinkhole.message;
  EXPECT_EQ(probe("pe.test", options()).diagnosis, Diagnosis::dns_private_answer);
  auto o = options();
  o.private_answers_expected = true;
  EXPECT_EQ(probe("pe.test", o).diagnosis, Diagnosis::ok);
}

TEST_F(DnsProbe, AStaleHostsEntryAnswersFirstAndIsReported) {
  system_dns_.a("relay.test", "40.1.2.3");
  auto o = options();
  o.hosts_file = dir_.write("hosts", "10.0.0.99 relay.test\n");
  const auto r = probe("relay.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_private_answer);
  EXPECT_EQ(r.fact_text("answered_by_hosts_file"), "true");
  EXPECT_EQ(r.fact_text("server"), o.hosts_file);
  EXPECT_NE(r.message.find("system resolver (hosts file " + o.hosts_file + "): 10.0.0.99"),
            std::string::npos)
      << r.message;
  EXPECT_EQ(system_dns_.total_queries(), 0);  // the gateway would never ask DNS either
}

TEST_F(DnsProbe, MismatchWhenTheSystemResolverLacksThePublicZone) {
  MockDnsServer reference;
  reference.a("mybus.servicebus.windows.net", "40.1.2.3");
  auto o = options();
  o.reference_resolvers = {reference.endpoint()};
  const auto r = probe("mybus.servicebus.windows.net", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_EQ(r.message, "resolvers disagree: system resolver " + system_dns_.endpoint() +
                           ": NXDOMAIN (no such name); reference " + reference.endpoint() +
                           ": 40.1.2.3");
  EXPECT_EQ(r.fact_text("answers"), "system resolver " + system_dns_.endpoint() +
                                        ": NXDOMAIN (no such name), reference " +
                                        reference.endpoint() + ": 40.1.2.3");
}

TEST_F(DnsProbe, MismatchWhenTheSystemResolverRedirectsTheName) {
  MockDnsServer reference;
  system_dns_.cname("login.test", "proxy.corp.test").a("proxy.corp.test", "40.9.9.9");
  reference.cname("login.test", "login.edge.test").a("login.edge.test", "40.1.2.3");
  auto o = options();
  o.reference_resolvers = {reference.endpoint()};
  const auto r = probe("login.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::dns_mismatch) << r.message;
}

TEST_F(DnsProbe, NoMismatchForGeoDnsDifferences) {
  MockDnsServer reference;
  system_dns_.cname("app.test", "app.tm.test").a("app.tm.test", "40.1.2.3");
  reference.cname("app.test", "app.tm.test").a("app.tm.test", "20.5.5.5");
  auto o = options();
  o.reference_resolvers = {reference.endpoint()};
  const auto r = probe("app.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(r.fact_text("geo_difference"), "true");
}

TEST_F(DnsProbe, ReferencesAreAskedInParallelWithTheSystemResolver) {
  MockDnsServer slow_reference;
  slow_reference.drop("gw.test");
  system_dns_.a("gw.test", "40.1.2.3");
  auto o = options();
  o.attempt_timeout = 20s;
  o.reference_resolvers = {slow_reference.endpoint()};
  const auto r = probe("gw.test", o, core::Deadline::after(400ms));
  // The silent reference used the whole deadline; the system answer still arrived and counts.
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_NE(r.message.find("(not compared)"), std::string::npos) << r.message;
}

TEST_F(DnsProbe, AReferenceOnIpv6Loopback) {
  MockDnsServer reference("::1");
  reference.a("v6ref.test", "40.1.2.3");
  system_dns_.a("v6ref.test", "40.1.2.3");
  auto o = options();
  o.reference_resolvers = {reference.endpoint()};
  const auto r = probe("v6ref.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_NE(r.message.find("reference " + reference.endpoint() + ": 40.1.2.3"), std::string::npos)
      << r.message;
}

TEST_F(DnsProbe, ReferenceOnlyProbeSkipsTheSystemResolver) {
  MockDnsServer reference;
  reference.a("only.test", "40.1.2.3");
  auto o = options();
  o.use_system_resolver = false;
  o.reference_resolvers = {reference.endpoint()};
  const auto r = probe("only.test", o);
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(system_dns_.total_queries(), 0);
  EXPECT_EQ(r.fact("answered_by_hosts_file"), nullptr);
}

TEST_F(DnsProbe, ABadReferenceResolverIsAProbeErrorWithOneLine) {
  auto o = options();
  o.reference_resolvers = {"dns.example.com"};
  const auto r = probe("x.test", o);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_NE(r.message.find("bad resolver 'dns.example.com'"), std::string::npos) << r.message;
  EXPECT_EQ(system_dns_.total_queries(), 0);
}

TEST_F(DnsProbe, AnIpLiteralNeedsNoLookup) {
  const auto r = probe("40.1.2.3", options());
  EXPECT_EQ(r.diagnosis, Diagnosis::ok);
  EXPECT_EQ(r.fact_text("addresses"), "40.1.2.3");
  EXPECT_EQ(system_dns_.total_queries(), 0);
}

}  // namespace
}  // namespace gwprobe::probes::dns
