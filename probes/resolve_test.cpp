// Resolution against the mock DNS server only: every config here names a ScratchDir resolv.conf
// whose server is the mock on loopback, so no test can reach the machine's real resolver.
#include "probes/resolve.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::probes {
namespace {
using namespace std::chrono_literals;
using testing::MockDnsServer;
using testing::ScratchDir;

/// A system-resolver config whose only server is `dns`, with an empty hosts file.
ResolverConfig config_for(const MockDnsServer& dns, const ScratchDir& dir) {
  ResolverConfig config;
  config.resolv_conf = dir.write("resolv.conf", "nameserver " + dns.host() + "\n");
  config.hosts_file = dir.write("hosts", "");
  config.port = dns.port();
  config.attempt_timeout = 200ms;
  config.tries = 1;
  return config;
}

std::vector<std::string> texts(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}
std::vector<std::string> texts(const Resolution& r) {
  return texts(r.addresses);
}

TEST(ParseDnsServer, AcceptsAddressesWithOrWithoutPort) {
  auto plain = parse_dns_server("1.1.1.1");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->to_string(), "1.1.1.1:53");
  auto ported = parse_dns_server("127.0.0.1:5353");
  ASSERT_TRUE(ported);
  EXPECT_EQ(ported->port, 5353);
  auto v6 = parse_dns_server("[2606:4700::1111]:853");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[2606:4700::1111]:853");
  auto bare_v6 = parse_dns_server("::1");
  ASSERT_TRUE(bare_v6);
  EXPECT_EQ(bare_v6->to_string(), "[::1]:53");
}

TEST(ParseDnsServer, RejectsHostNamesAndBadPortsWithOneLine) {
  for (const char* text : {"dns.google", "1.1.1.1:0", "1.1.1.1:99999", "", "[1.1.1.1]:53"}) {
    auto r = parse_dns_server(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, core::FailureKind::invalid_input);
    EXPECT_NE(r.error().message.find("bad resolver"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(HostsFile, FindsEveryMatchingLineCaseInsensitivelyIpv4First) {
  ScratchDir dir;
  const auto hosts = dir.write("hosts",
                               "# comment line\n"
                               "::1        relay.test\n"
                               "10.0.0.5   Relay.Test  alias # trailing comment\n"
                               "10.0.0.5   relay.test\n"
                               "10.0.0.6\trelay.test.\n"
                               "bogus      relay.test\n"
                               "10.0.0.7   other.test relay.testing\n");
  const auto found = lookup_hosts_file(hosts, "relay.test");
  EXPECT_EQ(texts(found), (std::vector<std::string>{"10.0.0.5", "10.0.0.6", "::1"}));
  EXPECT_EQ(lookup_hosts_file(hosts, "ALIAS").size(), 1u);
  EXPECT_TRUE(lookup_hosts_file(hosts, "missing.test").empty());
  EXPECT_TRUE(lookup_hosts_file(dir.path() + "/no-such-file", "relay.test").empty());
  EXPECT_TRUE(lookup_hosts_file("", "relay.test").empty());
}

TEST(ResolveHost, IpLiteralsResolveToThemselvesWithoutAnyQuery) {
  MockDnsServer dns;
  ScratchDir dir;
  const auto r = resolve_host("2001:db8::9", config_for(dns, dir), core::Deadline::after(2s),
                              core::CancelToken());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.source, AnswerSource::literal);
  EXPECT_EQ(texts(r), std::vector<std::string>{"2001:db8::9"});
  EXPECT_EQ(dns.total_queries(), 0);
}

TEST(ResolveHost, AsksTheResolvConfServerForAAndAaaa) {
  MockDnsServer dns;
  dns.a("gw.test", "40.1.2.3", 120).aaaa("gw.test", "2603:1030::5", 60);
  ScratchDir dir;
  const auto r =
      resolve_host("gw.test", config_for(dns, dir), core::Deadline::after(5s), core::CancelToken());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.source, AnswerSource::dns);
  EXPECT_EQ(texts(r), (std::vector<std::string>{"40.1.2.3", "2603:1030::5"}));
  EXPECT_EQ(r.server, dns.endpoint());
  ASSERT_TRUE(r.min_ttl);
  EXPECT_EQ(*r.min_ttl, 60u);
  EXPECT_EQ(dns.queries("gw.test"), 2);  // one A, one AAAA
}

TEST(ResolveHost, TheHostsFileAnswersBeforeDns) {
  MockDnsServer dns;
  dns.a("relay.test", "40.1.2.3");
  ScratchDir dir;
  auto config = config_for(dns, dir);
  config.hosts_file = dir.write("hosts", "10.9.9.9 relay.test\n");
  const auto r = resolve_host("relay.test", config, core::Deadline::after(5s), core::CancelToken());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.source, AnswerSource::hosts_file);
  EXPECT_EQ(r.server, config.hosts_file);
  EXPECT_EQ(texts(r), std::vector<std::string>{"10.9.9.9"});
  EXPECT_EQ(dns.total_queries(), 0);
}

TEST(ResolveHost, NxdomainIsADiagnosisNamingTheServer) {
  MockDnsServer dns;
  ScratchDir dir;
  const auto r = resolve_host("missing.test", config_for(dns, dir), core::Deadline::after(5s),
                              core::CancelToken());
  EXPECT_EQ(r.diagnosis, core::Diagnosis::dns_nxdomain);
  EXPECT_EQ(r.cause, "ARES_ENOTFOUND");
  EXPECT_EQ(r.server, dns.endpoint());
  EXPECT_FALSE(r.cut_short);
}

TEST(ResolveHost, StopsAtTheDeadlineWhenTheServerNeverAnswers) {
  MockDnsServer dns;
  dns.drop("silent.test");
  ScratchDir dir;
  auto config = config_for(dns, dir);
  config.attempt_timeout = 10s;  // c-ares alone would wait this long
  const auto start = std::chrono::steady_clock::now();
  const auto r =
      resolve_host("silent.test", config, core::Deadline::after(300ms), core::CancelToken());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.diagnosis, core::Diagnosis::dns_timeout);
  EXPECT_TRUE(r.cut_short);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(r.server, dns.endpoint());  // nobody replied: the servers asked
}

TEST(AddressCache, ConcurrentLookupsOfOneHostShareOneQuery) {
  MockDnsServer dns;
  dns.a("shared.test", "40.1.2.3");
  ScratchDir dir;
  AddressCache cache(config_for(dns, dir));
  constexpr int kThreads = 16;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      const auto r = cache.resolve("Shared.Test", core::Deadline::after(5s), core::CancelToken());
      if (r.ok() && r.addresses.size() == 1) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(dns.queries("shared.test"), 2);  // A + AAAA, once for all 16
  // Later callers get the cached answer without asking again.
  EXPECT_TRUE(cache.resolve("shared.test.", core::Deadline::after(5s), core::CancelToken()).ok());
  EXPECT_EQ(dns.queries("shared.test"), 2);
}

TEST(AddressCache, CachesNegativeAnswersButNotLookupsCutShort) {
  MockDnsServer dns;
  dns.drop("slow.test");
  ScratchDir dir;
  auto config = config_for(dns, dir);
  config.attempt_timeout = 10s;
  AddressCache cache(config);
  EXPECT_EQ(cache.resolve("gone.test", core::Deadline::after(5s), core::CancelToken()).diagnosis,
            core::Diagnosis::dns_nxdomain);
  EXPECT_EQ(cache.resolve("gone.test", core::Deadline::after(5s), core::CancelToken()).diagnosis,
            core::Diagnosis::dns_nxdomain);
  EXPECT_EQ(dns.queries("gone.test"), 2);  // the second call was served from the cache

  const auto first = cache.resolve("slow.test", core::Deadline::after(100ms), core::CancelToken());
  EXPECT_EQ(first.diagnosis, core::Diagnosis::dns_timeout);
  const int after_first = dns.queries("slow.test");
  const auto second = cache.resolve("slow.test", core::Deadline::after(100ms), core::CancelToken());
  EXPECT_EQ(second.diagnosis, core::Diagnosis::dns_timeout);
  EXPECT_GT(dns.queries("slow.test"), after_first);  // asked again: a cut-short lookup is no answer
}

TEST(AddressCache, AWaiterStopsAtItsOwnDeadlineAndOnCancel) {
  MockDnsServer dns;
  dns.drop("stuck.test");
  ScratchDir dir;
  auto config = config_for(dns, dir);
  config.attempt_timeout = 10s;
  AddressCache cache(config);
  core::CancelToken owner_cancel;
  std::thread owner(
      [&] { (void)cache.resolve("stuck.test", core::Deadline::after(30s), owner_cancel); });
  while (dns.queries("stuck.test") == 0) std::this_thread::yield();

  const auto waited =
      cache.resolve("stuck.test", core::Deadline::after(150ms), core::CancelToken());
  EXPECT_EQ(waited.diagnosis, core::Diagnosis::dns_timeout);
  EXPECT_TRUE(waited.cut_short);

  core::CancelToken waiter_cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    waiter_cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto cancelled = cache.resolve("stuck.test", core::Deadline::after(30s), waiter_cancel);
  EXPECT_EQ(cancelled.diagnosis, core::Diagnosis::probe_cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  canceller.join();
  owner_cancel.cancel();
  owner.join();
}

TEST(AddressCache, LiteralsBypassTheCache) {
  MockDnsServer dns;
  ScratchDir dir;
  AddressCache cache(config_for(dns, dir));
  const auto r = cache.resolve("127.0.0.1", core::Deadline::after(1s), core::CancelToken());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.source, AnswerSource::literal);
  EXPECT_EQ(dns.total_queries(), 0);
}

}  // namespace
}  // namespace gwprobe::probes
