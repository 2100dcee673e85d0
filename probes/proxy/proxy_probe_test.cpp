// The proxy probe and open_tunnel against the loopback proxy fixture: every diagnosis, TLS
// through plain and https:// proxies, the proxy's name through gwprobe's resolver, cancel, and
// the password never in a result.
#include "probes/proxy/proxy_probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "probes/proxy/tunnel.hpp"
#include "probes/resolve.hpp"
#include "probes/tls/tls_probe.hpp"
#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/loopback_resolver.hpp"
#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/socks_proxy.hpp"
#include "tests/fixtures/tls_server.hpp"

namespace gwprobe::probes::proxy {
namespace {

using core::Diagnosis;
using core::Status;
using ::testing::HasSubstr;
using testing::HttpProxy;
using testing::HttpProxyConfig;
using ::testing::Not;
using testing::TestPki;

constexpr auto kTestBudget = std::chrono::seconds(10);
constexpr const char* kPassword = "pr0xy-s3cret";

/// Every lookup of these tests stays on loopback (hosts file, then a mock DNS server).
testing::LoopbackResolver& resolver() {
  static testing::LoopbackResolver instance;
  return instance;
}

ProbeContext context_with(core::Deadline deadline = core::Deadline::after(kTestBudget)) {
  ProbeContext c;
  c.deadline = deadline;
  c.addresses = &resolver().cache();
  return c;
}

ProxyEndpoint endpoint_of(const std::string& url, const std::string& source = "from --proxy") {
  ProxyEndpoint e;
  e.url = core::parse_url(url, "http").value();
  e.source = source;
  return e;
}

ProxyOptions options_for(const std::string& url) {
  ProxyOptions o;
  o.proxy = endpoint_of(url);
  return o;
}

/// Every text of a result: message, advice and each fact.
std::string everything_in(const core::ProbeResult& r) {
  std::string all = r.message + "\n" + r.advice + "\n";
  for (const auto& f : r.facts) all += f.key + "=" + core::to_text(f.value) + "\n";
  return all;
}

testing::TlsServer echo_server() {
  testing::TlsServerConfig c;
  c.mode = testing::TlsServerConfig::Mode::echo;
  c.chain = {TestPki::get().leaf, TestPki::get().public_intermediate};
  c.alpn = {"http/1.1"};
  return testing::TlsServer(c);
}

TEST(ProxyProbe, ATunnelThroughAnOpenProxyPassesWithTheProxysAnswerAsFacts) {
  HttpProxy proxy(HttpProxyConfig{});
  testing::LoopbackSocket target("127.0.0.1", 8);
  const auto r = run_proxy_probe(core::Target{"relay.test", target.port}, options_for(proxy.url()),
                                 context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.diagnosis, Diagnosis::ok);
  EXPECT_EQ(r.fact_text("proxy_status"), "HTTP/1.1 200 Connection established");
  EXPECT_EQ(r.fact_text("http_status"), "200");
  EXPECT_EQ(r.fact_text("proxy_server"), "gwprobe-test-proxy");
  EXPECT_EQ(r.fact_text("proxy_via"), "1.1 gwprobe-test-proxy");
  EXPECT_EQ(r.fact_text("proxy_auth_used"), "none");
  EXPECT_EQ(r.fact_text("proxy"), proxy.url());
  EXPECT_EQ(r.fact_text("proxy_source"), "from --proxy");
  EXPECT_THAT(r.message, HasSubstr("CONNECT relay.test:" + std::to_string(target.port) +
                                   " through " + proxy.url()));
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0].method, "CONNECT");
  EXPECT_EQ(proxy.requests()[0].target, "relay.test:" + std::to_string(target.port));
  EXPECT_EQ(r.fact("proxy_addresses"), nullptr);  // an IP literal needs no lookup
}

TEST(ProxyProbe, WithoutCredentialsA407IsProxyAuthRequiredNamingTheOfferedSchemes) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = kPassword;
  HttpProxy proxy(config);
  const auto r =
      run_proxy_probe(core::Target{"relay.test", 443}, options_for(proxy.url()), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_required) << r.message;
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.fact_text("http_status"), "407");
  EXPECT_EQ(r.fact_text("proxy_auth"), "Basic");
  EXPECT_THAT(r.message, HasSubstr("requires authentication (407)"));
}

TEST(ProxyProbe, WrongCredentialsAreProxyAuthFailedAndThePasswordIsNeverInTheResult) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = "the-right-one";
  HttpProxy proxy(config);
  const auto r = run_proxy_probe(core::Target{"relay.test", 443},
                                 options_for("http://alice:" + std::string(kPassword) +
                                             "@127.0.0.1:" + std::to_string(proxy.port())),
                                 context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("rejected the credentials (407)"));
  EXPECT_THAT(r.fact_text("proxy"), HasSubstr("alice:***@"));
  EXPECT_THAT(everything_in(r), Not(HasSubstr(kPassword)));
}

TEST(ProxyProbe, A401ToWrongCredentialsIsStillProxyAuthFailed) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = "the-right-one";
  config.wrong_credentials_get_401 = true;
  HttpProxy proxy(config);
  auto options = options_for(proxy.url());
  options.proxy.url.user = "alice";
  options.proxy.url.password = core::Secret(kPassword);
  const auto r = run_proxy_probe(core::Target{"relay.test", 443}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("401 instead of 407"));
}

TEST(ProxyProbe, TheRightCredentialsOpenTheTunnelWithBasic) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = kPassword;
  HttpProxy proxy(config);
  testing::LoopbackSocket target("127.0.0.1", 8);
  for (const auto auth : {ProxyAuth::any, ProxyAuth::basic}) {
    auto options = options_for(proxy.url());
    options.proxy.url.user = "alice";
    options.proxy.url.password = core::Secret(kPassword);
    options.proxy.auth = auth;
    const auto r =
        run_proxy_probe(core::Target{"relay.test", target.port}, options, context_with());
    EXPECT_EQ(r.status, Status::pass) << r.message;
    EXPECT_EQ(r.fact_text("proxy_auth_used"), "Basic");
    EXPECT_THAT(everything_in(r), Not(HasSubstr(kPassword)));
  }
}

TEST(ProxyProbe, ADeniedPortIsProxyConnectDeniedWithTheStatusAndTheProxysError) {
  testing::LoopbackSocket target("127.0.0.1", 8);
  HttpProxyConfig config;
  config.denied_ports = {target.port};
  HttpProxy proxy(config);
  const auto r = run_proxy_probe(core::Target{"relay.test", target.port}, options_for(proxy.url()),
                                 context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_connect_denied) << r.message;
  EXPECT_EQ(r.fact_text("http_status"), "403");
  EXPECT_EQ(r.fact_text("proxy_error"), "ERR_ACCESS_DENIED 0");
  EXPECT_THAT(r.message, HasSubstr("refused CONNECT with 403"));
}

TEST(ProxyProbe, A502IsProxyConnectDeniedWordedAsCouldNotReach) {
  HttpProxyConfig config;
  config.connect_status = 502;
  HttpProxy proxy(config);
  const auto r =
      run_proxy_probe(core::Target{"relay.test", 443}, options_for(proxy.url()), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_connect_denied);
  EXPECT_THAT(r.message, HasSubstr("could not open a tunnel: it answered 502"));
}

TEST(ProxyProbe, AProxyThatRefusesConnectionsIsProxyUnreachable) {
  testing::LoopbackSocket closed("127.0.0.1", -1);
  const auto r = run_proxy_probe(core::Target{"relay.test", 443},
                                 options_for("http://127.0.0.1:" + std::to_string(closed.port)),
                                 context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_unreachable) << r.message;
  EXPECT_THAT(r.message, HasSubstr("cannot connect to the proxy (Connection refused)"));
}

TEST(ProxyProbe, AProxyThatNeverAnswersConnectIsFilteredBeyondTheProxyAtTheDeadline) {
  HttpProxyConfig config;
  config.hang_on_connect = true;
  HttpProxy proxy(config);
  const auto r =
      run_proxy_probe(core::Target{"relay.test", 443}, options_for(proxy.url()),
                      context_with(core::Deadline::after(std::chrono::milliseconds(400))));
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_filtered) << r.message;
  EXPECT_THAT(r.message, HasSubstr("did not answer CONNECT before the deadline"));
}

TEST(ProxyProbe, CancelStopsAPendingConnectPromptly) {
  HttpProxyConfig config;
  config.hang_on_connect = true;
  HttpProxy proxy(config);
  auto context = context_with(core::Deadline::after(std::chrono::seconds(60)));
  std::thread canceller([&] {
    context.cancel.wait_for(std::chrono::milliseconds(200));
    context.cancel.cancel();
  });
  const auto started = std::chrono::steady_clock::now();
  const auto r =
      run_proxy_probe(core::Target{"relay.test", 443}, options_for(proxy.url()), context);
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.message;
  EXPECT_EQ(r.status, Status::error);
  // Far below the 60 s deadline: the cancel token, not a timeout, ended it.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

TEST(ProxyProbe, TheProxysNameIsResolvedByGwprobesResolverNotCurls) {
  testing::ScratchDir dir;
  HttpProxy proxy(HttpProxyConfig{});
  testing::LoopbackSocket target("127.0.0.1", 8);
  testing::MockDnsServer dns;
  dns.rcode("gone-proxy.test", testing::MockDnsServer::Rcode::nxdomain);
  ResolverConfig resolver;
  resolver.hosts_file = dir.write("hosts", "127.0.0.1 proxy.test\n");
  resolver.resolv_conf = dir.write("resolv.conf", "nameserver 127.0.0.1\n");
  resolver.port = dns.port();
  AddressCache cache(resolver);
  auto context = context_with();
  context.addresses = &cache;

  auto r =
      run_proxy_probe(core::Target{"relay.test", target.port},
                      options_for("http://proxy.test:" + std::to_string(proxy.port())), context);
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.fact_text("proxy_addresses"), "127.0.0.1");

  r = run_proxy_probe(core::Target{"relay.test", target.port},
                      options_for("http://gone-proxy.test:3128"), context);
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_unreachable);
  EXPECT_THAT(r.message, HasSubstr("cannot resolve the proxy's host gone-proxy.test"));
  EXPECT_GT(dns.queries("gone-proxy.test"), 0);
}

TEST(ProxyProbe, ComparingTheDirectPathReportsItAsFactsWithoutChangingTheVerdict) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = kPassword;
  HttpProxy proxy(config);
  testing::LoopbackSocket target("127.0.0.1", 8);
  auto options = options_for(proxy.url());
  options.compare_direct = true;
  // The proxy wants credentials we do not have; the direct path works.
  auto r = run_proxy_probe(core::Target{"127.0.0.1", target.port}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_required);
  EXPECT_EQ(r.fact_text("direct_diagnosis"), "OK");
  EXPECT_THAT(r.fact_text("direct_path"), HasSubstr("open (connected to 127.0.0.1:"));
  EXPECT_THAT(r.message, HasSubstr("the direct path works (bypassing the proxy"));

  // The tunnel works; the direct path is refused: still a pass.
  testing::LoopbackSocket closed("127.0.0.1", -1);
  options.proxy.url.user = "alice";
  options.proxy.url.password = core::Secret(kPassword);
  r = run_proxy_probe(core::Target{"127.0.0.1", closed.port}, options, context_with());
  // The fixture proxy connects to the same closed port: 502 from the proxy.
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_connect_denied);
  EXPECT_EQ(r.fact_text("direct_diagnosis"), "TCP_REFUSED");
  EXPECT_THAT(r.message, HasSubstr("direct path refused too"));
}

TEST(TlsThroughProxy, TheTlsProbeRunsInsideATunnelThroughAPlainProxy) {
  HttpProxy proxy(HttpProxyConfig{});
  auto server = echo_server();
  tls::TlsOptions options;
  options.use_system_store = false;
  options.ca_file = TestPki::get().public_root_file;
  options.proxy = endpoint_of(proxy.url());
  const auto r =
      tls::run_tls_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(server.last_sni(), "relay.test");
  EXPECT_EQ(proxy.tunnels(), 1);
  EXPECT_EQ(r.fact_text("proxy_status"), "HTTP/1.1 200 Connection established");
  EXPECT_THAT(r.message, HasSubstr("(through " + proxy.url() + ")"));
  bool has_proxy_phase = false;
  bool has_tls_phase = false;
  for (const auto& p : r.phases) {
    has_proxy_phase = has_proxy_phase || p.name == "proxy";
    has_tls_phase = has_tls_phase || p.name == "tls";
  }
  EXPECT_TRUE(has_proxy_phase);
  EXPECT_TRUE(has_tls_phase);
}

TEST(TlsThroughProxy, TlsInsideTlsThroughAnHttpsProxy) {
  HttpProxyConfig config;
  config.tls_chain = {TestPki::get().leaf, TestPki::get().public_intermediate};
  config.user = "alice";
  config.password = kPassword;
  HttpProxy proxy(config);
  auto server = echo_server();
  tls::TlsOptions options;
  options.use_system_store = false;
  options.ca_file = TestPki::get().public_root_file;
  options.proxy = endpoint_of(proxy.url());
  options.proxy->ca_file = TestPki::get().public_root_file;
  options.proxy->url.user = "alice";
  options.proxy->url.password = core::Secret(kPassword);
  const auto r =
      tls::run_tls_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.fact_text("tls_version").substr(0, 5), "TLSv1");
  EXPECT_EQ(proxy.tunnels(), 1);
  EXPECT_EQ(server.last_sni(), "relay.test");
  EXPECT_THAT(everything_in(r), Not(HasSubstr(kPassword)));
}

TEST(TlsThroughProxy, AnHttpsProxyWithAnUntrustedCertificateIsProxyUnreachable) {
  HttpProxyConfig config;
  config.tls_chain = {TestPki::get().self_signed};
  HttpProxy proxy(config);
  tls::TlsOptions options;
  options.use_system_store = false;
  options.ca_file = TestPki::get().public_root_file;
  options.proxy = endpoint_of(proxy.url());
  options.proxy->ca_file = TestPki::get().public_root_file;
  const auto r = tls::run_tls_probe(core::Target{"relay.test", 443}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_unreachable) << r.message;
  EXPECT_THAT(r.message, HasSubstr("TLS to the proxy failed"));
}

TEST(TlsThroughProxy, AProxyFailureStopsTheTlsProbeWithTheProxysDiagnosis) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = kPassword;
  HttpProxy proxy(config);
  tls::TlsOptions options;
  options.use_system_store = false;
  options.ca_file = TestPki::get().public_root_file;
  options.proxy = endpoint_of(proxy.url());
  const auto r = tls::run_tls_probe(core::Target{"relay.test", 443}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_required) << r.message;
  EXPECT_EQ(r.kind, "tls");
}

TEST(SocksProxy, Socks5hSendsTheNameAndTunnels) {
  testing::SocksProxy socks(testing::SocksProxyConfig{});
  testing::LoopbackSocket target("127.0.0.1", 8);
  const auto r = run_proxy_probe(core::Target{"relay.test", target.port},
                                 options_for("socks5h://127.0.0.1:" + std::to_string(socks.port())),
                                 context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(socks.tunnels(), 1);
  ASSERT_EQ(socks.destinations().size(), 1u);
  EXPECT_EQ(socks.destinations()[0], "relay.test:" + std::to_string(target.port));
}

TEST(SocksProxy, Socks5ResolvesTheTargetWithGwprobesResolver) {
  testing::SocksProxy socks(testing::SocksProxyConfig{});
  testing::LoopbackSocket target("127.0.0.1", 8);
  const auto r = run_proxy_probe(core::Target{"relay.test", target.port},
                                 options_for("socks5://127.0.0.1:" + std::to_string(socks.port())),
                                 context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  ASSERT_EQ(socks.destinations().size(), 1u);
  // relay.test is 127.0.0.1 in the test's hosts file: the address went to the proxy.
  EXPECT_EQ(socks.destinations()[0], "127.0.0.1:" + std::to_string(target.port));
}

TEST(SocksProxy, CredentialsRulesAndRefusalsMapLikeHttpProxies) {
  testing::SocksProxyConfig config;
  config.user = "alice";
  config.password = kPassword;
  config.denied_ports = {9350};
  testing::SocksProxy socks(config);
  const std::string base = "127.0.0.1:" + std::to_string(socks.port());
  auto r = run_proxy_probe(core::Target{"relay.test", 443}, options_for("socks5h://" + base),
                           context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_required) << r.message;
  r = run_proxy_probe(core::Target{"relay.test", 443}, options_for("socks5h://alice:wrong@" + base),
                      context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_failed) << r.message;
  r = run_proxy_probe(core::Target{"relay.test", 9350},
                      options_for("socks5h://alice:" + std::string(kPassword) + "@" + base),
                      context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_connect_denied) << r.message;
  EXPECT_THAT(everything_in(r), Not(HasSubstr(kPassword)));
}

}  // namespace
}  // namespace gwprobe::probes::proxy
