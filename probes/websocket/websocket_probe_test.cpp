// The WebSocket probe end to end on loopback: direct, through CONNECT tunnels (http:// and
// https:// proxies) and as forward requests; every diagnosis; the request's shape; the token
// and proxy password never in a result.
#include "probes/websocket/websocket_probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/loopback_resolver.hpp"
#include "tests/fixtures/loopback_sockets.hpp"
#include "tests/fixtures/websocket_server.hpp"

namespace gwprobe::probes::websocket {
namespace {

using core::Diagnosis;
using core::Status;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::HttpProxy;
using testing::HttpProxyConfig;
using ::testing::Not;
using testing::TestPki;
using testing::WebSocketServer;
using testing::WebSocketServerConfig;
using Mode = WebSocketServerConfig::Mode;

constexpr auto kTestBudget = std::chrono::seconds(10);
constexpr const char* kListenPath = "/$hc/gwprobe?sb-hc-action=listen";
constexpr const char* kToken =
    "SharedAccessSignature sr=http%3A%2F%2Frelay.test%2Fgwprobe&sig=c2VjcmV0&se=1&skn=gateway";

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

WebSocketOptions plain() {
  WebSocketOptions o;
  o.path = kListenPath;
  o.use_tls = false;
  return o;
}

WebSocketOptions secure() {
  WebSocketOptions o;
  o.path = kListenPath;
  o.use_tls = true;
  o.tls.use_system_store = false;
  o.tls.ca_file = TestPki::get().public_root_file;
  return o;
}

WebSocketServerConfig config_of(Mode mode) {
  WebSocketServerConfig c;
  c.mode = mode;
  return c;
}

WebSocketServerConfig tls_server(Mode mode = Mode::echo) {
  WebSocketServerConfig c;
  c.mode = mode;
  c.tls_chain = {TestPki::get().leaf, TestPki::get().public_intermediate};
  return c;
}

proxy::ProxyEndpoint proxy_at(const std::string& url) {
  proxy::ProxyEndpoint e;
  e.url = core::parse_url(url).value();
  e.source = "from --proxy";
  return e;
}

std::string everything_in(const core::ProbeResult& r) {
  std::string all = r.message + "\n" + r.advice + "\n";
  for (const auto& f : r.facts) all += f.key + "=" + core::to_text(f.value) + "\n";
  return all;
}

bool has_phase(const core::ProbeResult& r, std::string_view name) {
  for (const auto& p : r.phases) {
    if (p.name == name) return true;
  }
  return false;
}

TEST(WebSocketProbe, AnEchoServerUpgradesAndAnswersThePingDirectly) {
  WebSocketServer server(WebSocketServerConfig{});
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.kind, "websocket");
  EXPECT_EQ(r.fact_text("http_status"), "101");
  EXPECT_EQ(r.fact_text("ws_answered_by"), "server");
  EXPECT_EQ(r.fact_text("ws_path"), "ws direct");
  EXPECT_EQ(r.fact_text("ws_server"), "gwprobe-test-websocket");
  EXPECT_THAT(r.message, HasSubstr("ping answered in"));
  EXPECT_TRUE(has_phase(r, "connect"));
  EXPECT_TRUE(has_phase(r, "upgrade"));
  EXPECT_TRUE(has_phase(r, "transfer"));
  EXPECT_NE(r.fact("ws_ping_rtt_ms"), nullptr);
}

TEST(WebSocketGroup, TextMessagesSentBackToBackQueueAndArriveInOrder) {
  WebSocketServer server(WebSocketServerConfig{});
  WebSocketGroup group;
  core::ProbeResult into;
  const auto id = open_websocket(core::Target{"127.0.0.1", server.port()}, plain(), context_with(),
                                 group, into);
  ASSERT_TRUE(id.has_value()) << into.message;
  group.watch(*id);
  constexpr int kMessages = 40;
  const std::string filler(4000, 'x');
  for (int i = 0; i < kMessages; ++i) group.send_text(*id, std::to_string(i) + filler);
  EXPECT_GT(group.pending_sends(*id), 0u);  // nothing is written before the loop runs
  std::vector<std::string> echoed;
  const auto until = core::SteadyClock::now() + kTestBudget;
  while (echoed.size() < kMessages && core::SteadyClock::now() < until) {
    for (const auto& e : group.wait(until, core::CancelToken{})) {
      if (e.kind == ConnectionEvent::Kind::message) echoed.push_back(e.detail);
    }
  }
  ASSERT_EQ(echoed.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(echoed[i], std::to_string(i) + filler);
  EXPECT_EQ(group.pending_sends(*id), 0u);
}

TEST(WebSocketGroup, DrainReturnsWhenTheQueueIsWrittenNotAtItsTimeLimit) {
  // wait() returns on events only; a sender that must not outrun the socket uses drain(), which
  // returns as soon as the writes are done (the agent once spent 1 s per batch in wait()).
  WebSocketServer server(WebSocketServerConfig{});
  WebSocketGroup group;
  core::ProbeResult into;
  const auto id = open_websocket(core::Target{"127.0.0.1", server.port()}, plain(), context_with(),
                                 group, into);
  ASSERT_TRUE(id.has_value()) << into.message;
  const std::string filler(4000, 'y');
  for (int i = 0; i < 20; ++i) group.send_text(*id, filler);
  const auto limit = core::SteadyClock::now() + std::chrono::minutes(5);
  group.drain(*id, 0, limit, core::CancelToken{});
  EXPECT_EQ(group.pending_sends(*id), 0u);
  EXPECT_LT(core::SteadyClock::now(), limit);
  EXPECT_TRUE(group.is_open(*id));
}

TEST(WebSocketProbe, TheUpgradeIsShapedLikeTheGatewaysListenerRequest) {
  WebSocketServer server(WebSocketServerConfig{});
  auto options = plain();
  options.token = [] { return core::Result<RelayToken>(RelayToken{core::Secret(kToken), "test"}); };
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  ASSERT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(server.last_target(), kListenPath);
  EXPECT_EQ(server.last_header("Host"), "relay.test:" + std::to_string(server.port()));
  EXPECT_EQ(server.last_header("Upgrade"), "websocket");
  EXPECT_EQ(server.last_header("Connection"), "upgrade");
  EXPECT_EQ(server.last_header("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(server.last_header("Sec-WebSocket-Key").size(), 24u);
  EXPECT_EQ(server.last_header("ServiceBusAuthorization"), kToken);
  EXPECT_THAT(server.last_header("User-Agent"), HasSubstr("gwprobe/"));
  EXPECT_EQ(r.fact_text("ws_token"), "ServiceBusAuthorization: test");
  EXPECT_THAT(everything_in(r), Not(HasSubstr("sig=")));
}

TEST(WebSocketProbe, WssDirectRunsTheTlsCheckFirstAndPasses) {
  WebSocketServer server(tls_server());
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, secure(), context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.fact_text("ws_path"), "wss direct");
  EXPECT_EQ(r.fact_text("tls_trust"), "expected");
  EXPECT_TRUE(has_phase(r, "tls"));
  EXPECT_THAT(r.message, HasSubstr("wss://relay.test:" + std::to_string(server.port())));
}

TEST(WebSocketProbe, WssThroughAConnectTunnelOfAPlainProxy) {
  WebSocketServer server(tls_server());
  HttpProxy proxy(HttpProxyConfig{});
  auto options = secure();
  options.proxy = proxy_at(proxy.url());
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.fact_text("ws_path"), "wss through a CONNECT tunnel");
  EXPECT_EQ(r.fact_text("proxy_status"), "HTTP/1.1 200 Connection established");
  EXPECT_EQ(proxy.tunnels(), 1);
  EXPECT_TRUE(has_phase(r, "proxy"));
}

TEST(WebSocketProbe, WssThroughAnHttpsProxyIsTlsInsideTlsAndPasses) {
  WebSocketServer server(tls_server());
  HttpProxyConfig config;
  config.tls_chain = {TestPki::get().leaf, TestPki::get().public_intermediate};
  HttpProxy proxy(config);
  auto options = secure();
  options.proxy = proxy_at(proxy.url());
  options.proxy->ca_file = TestPki::get().public_root_file;
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(proxy.tunnels(), 1);
}

TEST(WebSocketProbe, WsThroughAForwardProxyThatPassesTheUpgrade) {
  WebSocketServer server(WebSocketServerConfig{});
  HttpProxyConfig config;
  config.user = "alice";
  config.password = "pw-of-alice";
  HttpProxy proxy(config);
  auto options = plain();
  options.proxy = proxy_at("http://alice:pw-of-alice@127.0.0.1:" + std::to_string(proxy.port()));
  options.forward_proxy = true;
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_EQ(r.fact_text("ws_path"), "ws as a forward-proxy request");
  const auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& seen = requests[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target,
            "http://relay.test:" + std::to_string(server.port()) + std::string(kListenPath));
  EXPECT_EQ(seen.header("Upgrade"), "websocket");
  EXPECT_THAT(seen.header("Proxy-Authorization"), HasSubstr("Basic "));
  EXPECT_EQ(server.last_header("Proxy-Authorization"), "");  // the proxy kept it
  EXPECT_THAT(everything_in(r), Not(HasSubstr("pw-of-alice")));
}

TEST(WebSocketProbe, AForwardProxyThatStripsTheUpgradeIsWsUpgradeStripped) {
  WebSocketServer server(WebSocketServerConfig{});
  HttpProxyConfig config;
  config.upgrades = HttpProxyConfig::Upgrades::strip;
  HttpProxy proxy(config);
  auto options = plain();
  options.proxy = proxy_at(proxy.url());
  options.forward_proxy = true;
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_stripped) << r.message;
  EXPECT_EQ(r.fact_text("http_status"), "426");
  EXPECT_THAT(r.message, HasSubstr("the forward proxy removed the Upgrade header"));
  EXPECT_EQ(server.upgrades(), 0);
  EXPECT_EQ(server.requests(), 1);
}

TEST(WebSocketProbe, AForwardProxyThatRefusesUpgradesIsWsUpgradeDeniedByTheProxy) {
  WebSocketServer server(WebSocketServerConfig{});
  HttpProxyConfig config;
  config.upgrades = HttpProxyConfig::Upgrades::deny;
  HttpProxy proxy(config);
  auto options = plain();
  options.proxy = proxy_at(proxy.url());
  options.forward_proxy = true;
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_denied) << r.message;
  EXPECT_EQ(r.fact_text("http_status"), "403");
  EXPECT_EQ(r.fact_text("ws_answered_by"), "proxy");
  EXPECT_EQ(r.fact_text("ws_via"), "1.1 gwprobe-test-proxy");
  EXPECT_EQ(server.requests(), 0);
}

TEST(WebSocketProbe, ATransparent403WithoutProxyHeadersIsDeniedByAnUnknownSender) {
  WebSocketServerConfig config;
  config.mode = Mode::refuse;
  config.status = 403;
  WebSocketServer server(config);
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_denied) << r.message;
  EXPECT_EQ(r.fact_text("ws_answered_by"), "unknown");
}

TEST(WebSocketProbe, A403InsideTlsComesFromTheRelayItself) {
  auto config = tls_server(Mode::refuse);
  config.status = 403;
  config.headers = {{"Via", "1.1 relay-frontend"}};
  WebSocketServer server(config);
  const auto r =
      run_websocket_probe(core::Target{"relay.test", server.port()}, secure(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::relay_auth_failed) << r.message;
  EXPECT_EQ(r.fact_text("ws_answered_by"), "server");
}

TEST(WebSocketProbe, A401WithoutATokenSaysWhatWasAndWasNotProven) {
  auto config = tls_server();
  config.required_token_prefix = "SharedAccessSignature ";
  WebSocketServer server(config);
  auto r = run_websocket_probe(core::Target{"relay.test", server.port()}, secure(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::relay_auth_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("none is configured: the upgrade reached the relay, but 101 "
                                   "and WebSocket frames are not proven"));
  EXPECT_EQ(r.fact_text("ws_token"), "none configured");

  auto options = secure();
  options.token = [] {
    return core::Result<RelayToken>(RelayToken{core::Secret(kToken), "SAS rule gateway"});
  };
  r = run_websocket_probe(core::Target{"relay.test", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
}

TEST(WebSocketProbe, AFailingTokenSourceIsAProbeErrorBeforeAnyTraffic) {
  WebSocketServer server(WebSocketServerConfig{});
  auto options = plain();
  options.token = [] {
    return core::Result<RelayToken>(
        core::fail(core::FailureKind::io, "cannot read the SAS key file /nope"));
  };
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_THAT(r.message, HasSubstr("cannot make the relay token: cannot read the SAS key file"));
  EXPECT_EQ(server.requests(), 0);
}

TEST(WebSocketProbe, AnUpgradeWhoseFramesNeverComeBackIsWsFramesBlocked) {
  WebSocketServer server(config_of(Mode::swallow));
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(),
                          context_with(core::Deadline::after(std::chrono::milliseconds(500))));
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_frames_blocked) << r.message;
  EXPECT_EQ(r.fact_text("http_status"), "101");
  EXPECT_THAT(r.message, HasSubstr("the ping got no pong before the deadline"));
}

TEST(WebSocketProbe, AClose1008AfterTheUpgradeIsTheRelayRefusingTheToken) {
  WebSocketServerConfig config;
  config.mode = Mode::close;
  config.close_code = 1008;
  WebSocketServer server(config);
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::relay_auth_failed) << r.message;
  EXPECT_THAT(r.fact_text("ws_end"), HasSubstr("close code 1008"));
}

TEST(WebSocketProbe, AnotherCloseAfterTheUpgradeIsWsFramesBlocked) {
  WebSocketServerConfig config;
  config.mode = Mode::close;
  config.close_code = 1001;
  WebSocketServer server(config);
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_frames_blocked) << r.message;
  EXPECT_THAT(r.message, HasSubstr("closed with WebSocket close code 1001"));
}

TEST(WebSocketProbe, EchoIsCheckedWhenAsked) {
  WebSocketServer server(WebSocketServerConfig{});
  auto options = plain();
  options.echo = true;
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_THAT(r.message, HasSubstr("echo returned"));
}

TEST(WebSocketProbe, APlainHttpServerAnswering426IsStripped) {
  // The fixture answers 426 to a request without Upgrade; a refuse-mode server answering 200
  // is a web server that never saw the upgrade.
  WebSocketServerConfig config;
  config.mode = Mode::refuse;
  config.status = 200;
  WebSocketServer server(config);
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_stripped) << r.message;
  EXPECT_THAT(r.message, HasSubstr("a middlebox on the path removed the Upgrade header"));
}

TEST(WebSocketProbe, AServerThatNeverAnswersTheUpgradeIsDeniedAtTheDeadline) {
  testing::LoopbackSocket silent("127.0.0.1", 8);  // accepts TCP, never says a word
  const auto r =
      run_websocket_probe(core::Target{"127.0.0.1", silent.port}, plain(),
                          context_with(core::Deadline::after(std::chrono::milliseconds(300))));
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_denied) << r.message;
  EXPECT_THAT(r.message, HasSubstr("no answer to the upgrade before the deadline"));
}

TEST(WebSocketProbe, CancelEndsAWaitForAPongPromptly) {
  WebSocketServer server(config_of(Mode::swallow));
  auto context = context_with(core::Deadline::after(std::chrono::seconds(60)));
  std::thread canceller([&] {
    while (server.upgrades() == 0) std::this_thread::yield();
    context.cancel.cancel();
  });
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_websocket_probe(core::Target{"127.0.0.1", server.port()}, plain(), context);
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

TEST(WebSocketProbe, AProxyFailureIsReportedWithTheProxysDiagnosis) {
  HttpProxyConfig config;
  config.user = "alice";
  config.password = "x";
  HttpProxy proxy(config);
  auto options = secure();
  options.proxy = proxy_at(proxy.url());
  const auto r = run_websocket_probe(core::Target{"relay.test", 443}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::proxy_auth_required) << r.message;
  EXPECT_EQ(r.kind, "websocket");
}

TEST(WebSocketProbe, InvalidOptionsAreAProbeError) {
  auto options = plain();
  options.forward_proxy = true;  // without a proxy
  const auto r = run_websocket_probe(core::Target{"127.0.0.1", 80}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_THAT(r.message, HasSubstr("needs an http:// proxy"));
}

}  // namespace
}  // namespace gwprobe::probes::websocket
