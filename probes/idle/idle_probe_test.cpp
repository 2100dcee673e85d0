// The idle probe on loopback against the idle cutter fixture (FIN, RST, blackhole) in front of
// the WebSocket server, directly and through a proxy with TLS; sub-second requirements keep the
// real ladders short.
#include "probes/idle/idle_probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/idle_cutter.hpp"
#include "tests/fixtures/loopback_resolver.hpp"
#include "tests/fixtures/websocket_server.hpp"

namespace gwprobe::probes::idle {
namespace {

using namespace std::chrono_literals;
using core::Diagnosis;
using core::Status;
using ::testing::HasSubstr;
using testing::IdleCutter;
using testing::IdleCutterConfig;
using testing::WebSocketServer;
using testing::WebSocketServerConfig;

constexpr auto kTestBudget = std::chrono::seconds(20);
constexpr auto kCut = 500ms;

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

/// A 1 s requirement, four rungs (0.333, 0.667, 1.0 and 1.2 s).
IdleOptions quick() {
  IdleOptions o;
  o.websocket.path = "/$hc/gwprobe?sb-hc-action=listen";
  o.websocket.use_tls = false;
  o.required = 1s;
  o.margin = 200ms;
  o.connections = 4;
  o.pong_timeout = 300ms;
  return o;
}

double number(const core::ProbeResult& r, std::string_view key) {
  const auto* v = r.fact(key);
  if (v == nullptr) return -1;
  if (const auto* d = std::get_if<double>(v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return -1;
}

core::ProbeResult through_cutter(IdleCutterConfig::How how, IdleOptions options = quick()) {
  WebSocketServer server(WebSocketServerConfig{});
  IdleCutterConfig c;
  c.target_port = server.port();
  c.cut_after = kCut;
  c.how = how;
  IdleCutter cutter(c);
  return run_idle_probe(core::Target{"127.0.0.1", cutter.port()}, options, context_with());
}

TEST(IdleProbe, AFinCutterBelowTheRequirementIsIdleCutWithABracketAroundIt) {
  const auto r = through_cutter(IdleCutterConfig::How::fin);
  EXPECT_EQ(r.diagnosis, Diagnosis::idle_cut) << r.message;
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.fact_text("idle_cut_how"), "fin");
  EXPECT_LE(number(r, "idle_bracket_low_seconds"), 0.5);
  // The cutter's idle clock starts when it reads the last frame, which on loopback can be a
  // moment before the probe's send returns and stamps its own: the high end may read 0.499.
  EXPECT_GE(number(r, "idle_bracket_high_seconds"), 0.49);
  // The bracket's lower end: the longest hold survived (0.333 s, or a little more when pinged
  // late).
  EXPECT_GE(number(r, "idle_cut_seconds"), 0.333);
  EXPECT_EQ(number(r, "idle_cut_seconds"), number(r, "idle_bracket_low_seconds"));
  EXPECT_GE(number(r, "idle_cut_measured_seconds"), 0.45);
  EXPECT_THAT(r.message, HasSubstr("are cut after"));
  EXPECT_THAT(r.message, HasSubstr("closed (FIN); the gateway needs 1.000 s"));
  EXPECT_EQ(r.kind, "idle");
}

TEST(IdleProbe, AResetCutterSaysRst) {
  const auto r = through_cutter(IdleCutterConfig::How::rst);
  EXPECT_EQ(r.diagnosis, Diagnosis::idle_cut) << r.message;
  EXPECT_EQ(r.fact_text("idle_cut_how"), "rst");
}

TEST(IdleProbe, ABlackholeIsFoundByThePingThatGetsNoAnswer) {
  const auto r = through_cutter(IdleCutterConfig::How::blackhole);
  EXPECT_EQ(r.diagnosis, Diagnosis::idle_cut) << r.message;
  EXPECT_EQ(r.fact_text("idle_cut_how"), "blackhole");
  EXPECT_GE(number(r, "idle_bracket_low_seconds"), 0.333);  // survived
  EXPECT_LT(number(r, "idle_bracket_low_seconds"), 0.5);
  EXPECT_GE(number(r, "idle_bracket_high_seconds"), 0.667);  // held, then no answer
  EXPECT_EQ(r.fact("idle_cut_measured_seconds"), nullptr);
  EXPECT_THAT(r.message, HasSubstr("silently dropped"));
}

TEST(IdleProbe, WithoutACutterEveryConnectionSurvivesAndItPasses) {
  WebSocketServer server(WebSocketServerConfig{});
  std::vector<IdleProgress> progress;
  auto options = quick();
  options.progress = [&](const IdleProgress& p) { progress.push_back(p); };
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, options, context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_GE(number(r, "idle_survived_seconds"), 1.2);
  EXPECT_EQ(r.fact("idle_cut_seconds"), nullptr);
  EXPECT_THAT(r.message, HasSubstr("4 idle connections to 127.0.0.1:"));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().rungs, 4u);
  EXPECT_EQ(server.upgrades(), 4);
  const auto* rungs = r.fact("idle_rungs");
  ASSERT_NE(rungs, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*rungs).size(), 4u);
}

TEST(IdleProbe, ACutAboveTheRequirementPassesAndSaysWhere) {
  WebSocketServer server(WebSocketServerConfig{});
  IdleCutterConfig c;
  c.target_port = server.port();
  c.cut_after = 1100ms;  // between the 1.0 s and 1.2 s rungs
  IdleCutter cutter(c);
  const auto r = run_idle_probe(core::Target{"127.0.0.1", cutter.port()}, quick(), context_with());
  EXPECT_EQ(r.status, Status::pass) << r.message;
  EXPECT_THAT(r.message, HasSubstr("(above the requirement)"));
  EXPECT_GE(number(r, "idle_cut_seconds"), 1.0);
  EXPECT_LT(number(r, "idle_cut_seconds"), 1.1);
}

TEST(IdleProbe, AServerSideIdleCloseIsACloseFrameWithItsCode) {
  WebSocketServerConfig config;
  config.idle_close_after = kCut;
  config.idle_close_code = 1001;
  WebSocketServer server(config);
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, quick(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::idle_cut) << r.message;
  EXPECT_EQ(r.fact_text("idle_cut_how"), "close_frame 1001");
  EXPECT_THAT(r.message, HasSubstr("closed with WebSocket close code 1001"));
}

TEST(IdleProbe, TheLadderRunsOverTheGatewaysPathProxyTlsAndWebSocket) {
  WebSocketServerConfig config;
  config.tls_chain = {testing::TestPki::get().leaf, testing::TestPki::get().public_intermediate};
  WebSocketServer server(config);
  IdleCutterConfig c;
  c.target_port = server.port();
  c.cut_after = kCut;
  IdleCutter cutter(c);
  testing::HttpProxy proxy(testing::HttpProxyConfig{});
  auto options = quick();
  options.websocket.use_tls = true;
  options.websocket.tls.use_system_store = false;
  options.websocket.tls.ca_file = testing::TestPki::get().public_root_file;
  proxy::ProxyEndpoint endpoint;
  endpoint.url = core::parse_url(proxy.url()).value();
  options.websocket.proxy = endpoint;
  const auto r = run_idle_probe(core::Target{"relay.test", cutter.port()}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::idle_cut) << r.message;
  EXPECT_EQ(r.fact_text("idle_cut_how"), "fin");
  EXPECT_EQ(proxy.tunnels(), 4);
  EXPECT_EQ(r.fact_text("tls_trust"), "expected");  // the first connection's facts
  EXPECT_EQ(r.fact_text("proxy_status"), "HTTP/1.1 200 Connection established");
}

TEST(IdleProbe, APathThatDoesNotUpgradeFailsWithTheWebSocketDiagnosis) {
  WebSocketServerConfig config;
  config.mode = WebSocketServerConfig::Mode::refuse;
  config.status = 426;
  WebSocketServer server(config);
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, quick(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_upgrade_stripped) << r.message;
  EXPECT_EQ(server.requests(), 1);  // one try, not one per rung
}

TEST(IdleProbe, FramesThatNeverPassAreWsFramesBlocked) {
  WebSocketServerConfig config;
  config.mode = WebSocketServerConfig::Mode::swallow;
  WebSocketServer server(config);
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, quick(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ws_frames_blocked) << r.message;
}

TEST(IdleProbe, ADeadlineShorterThanTheLadderIsAProbeErrorUpFront) {
  WebSocketServer server(WebSocketServerConfig{});
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, quick(),
                                context_with(core::Deadline::after(500ms)));
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_THAT(r.message, HasSubstr("shorter than the idle ladder"));
  EXPECT_EQ(server.requests(), 0);
}

TEST(IdleProbe, CancelEndsTheHoldsPromptly) {
  WebSocketServer server(WebSocketServerConfig{});
  auto options = quick();
  options.required = 60s;
  auto context = context_with(core::Deadline::after(120s));
  std::thread canceller([&] {
    while (server.upgrades() < 4) std::this_thread::yield();
    context.cancel.wait_for(200ms);
    context.cancel.cancel();
  });
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_idle_probe(core::Target{"127.0.0.1", server.port()}, options, context);
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST(IdleProbe, BadOptionsAreAProbeError) {
  auto options = quick();
  options.connections = 1;
  auto r = run_idle_probe(core::Target{"127.0.0.1", 1}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  options.connections = 33;
  r = run_idle_probe(core::Target{"127.0.0.1", 1}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
  EXPECT_EQ(longest_wait(quick()), 1500ms);
}

}  // namespace
}  // namespace gwprobe::probes::idle
