// build_plan with a proxy, WebSocket endpoints and the idle check: which checks, in which order,
// over which path, and which of them may fail the run.
#include "cli/plan_builder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "probes/e2e/e2e_options.hpp"

namespace gwprobe::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

rules::Profile relay_profile() {
  auto profile = rules::parse_profile(R"toml(
name = "t"
https_mode = true
timeout = "2s"
[idle]
required = "30s"
[[endpoint]]
name = "Relay"
host = "relay.example"
ports = [443]
tls = true
websocket = true
websocket_path = "/$hc/gw?sb-hc-action=listen"
[[endpoint]]
name = "Relay (TCP mode)"
host = "relay.example"
ports = [9350]
requirement = "tcp-mode"
[[endpoint]]
name = "Internal"
host = "db.corp"
ports = [5432]
)toml",
                                      "t.toml");
  EXPECT_TRUE(profile.has_value()) << (profile ? "" : profile.error().message);
  return *profile;
}

PlanSettings with_proxy(const std::string& no_proxy = "") {
  PlanSettings s;
  probes::proxy::ProxySources sources;
  sources.cli_url = "http://proxy.corp:3128";
  sources.env = [no_proxy](std::string_view name) -> std::optional<std::string> {
    if (name == "NO_PROXY" && !no_proxy.empty()) return no_proxy;
    return std::nullopt;
  };
  s.proxy = probes::proxy::resolve_proxy_plan(sources).value();
  return s;
}

std::vector<probes::ProbeSpec> plan_of(const rules::Profile& p, const PlanSettings& s) {
  auto plan = build_plan(p, s);
  EXPECT_TRUE(plan.has_value()) << (plan ? "" : plan.error().message);
  return plan ? *plan : std::vector<probes::ProbeSpec>{};
}

std::vector<std::string> ids(const std::vector<probes::ProbeSpec>& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan) out.push_back(s.id);
  return out;
}

const probes::ProbeSpec& find(const std::vector<probes::ProbeSpec>& plan, const std::string& id) {
  for (const auto& s : plan) {
    if (s.id == id) return s;
  }
  static const probes::ProbeSpec none;
  ADD_FAILURE() << "no " << id;
  return none;
}

std::vector<std::string> deps(const std::vector<probes::ProbeSpec>& plan, const std::string& id) {
  std::vector<std::string> out;
  for (const auto d : find(plan, id).depends_on) out.push_back(plan[d].id);
  return out;
}

TEST(PlanBuilder, WithoutAProxyTheWebSocketCheckFollowsTls) {
  const auto plan = plan_of(relay_profile(), PlanSettings{});
  EXPECT_THAT(ids(plan), ElementsAre("dns:relay.example", "tcp:relay.example:443",
                                     "tls:relay.example:443", "websocket:relay.example:443",
                                     "tcp:relay.example:9350", "dns:db.corp", "tcp:db.corp:5432"));
  EXPECT_THAT(deps(plan, "websocket:relay.example:443"), ElementsAre("tls:relay.example:443"));
  const auto& ws = std::get<probes::websocket::WebSocketOptions>(
      find(plan, "websocket:relay.example:443").options);
  EXPECT_EQ(ws.path, "/$hc/gw?sb-hc-action=listen");
  EXPECT_TRUE(ws.use_tls);
  EXPECT_FALSE(ws.proxy.has_value());
  EXPECT_FALSE(static_cast<bool>(ws.token));
}

TEST(PlanBuilder, ThroughAProxyEachPortGetsAConnectCheckAndTlsAndWebSocketUseTheTunnel) {
  const auto plan = plan_of(relay_profile(), with_proxy());
  EXPECT_THAT(ids(plan), ElementsAre("proxy:relay.example:443", "tls:relay.example:443",
                                     "websocket:relay.example:443", "proxy:relay.example:9350",
                                     "proxy:db.corp:5432"));
  const auto& proxy = find(plan, "proxy:relay.example:443");
  EXPECT_TRUE(proxy.required);
  const auto& options = std::get<probes::proxy::ProxyOptions>(proxy.options);
  EXPECT_TRUE(options.compare_direct);  // the direct path is a fact, never a failure
  EXPECT_EQ(options.proxy.url.host, "proxy.corp");
  EXPECT_FALSE(find(plan, "proxy:relay.example:9350").required);  // HTTPS mode: optional
  EXPECT_THAT(deps(plan, "tls:relay.example:443"), ElementsAre("proxy:relay.example:443"));
  EXPECT_THAT(deps(plan, "websocket:relay.example:443"), ElementsAre("tls:relay.example:443"));
  const auto& tls = std::get<probes::tls::TlsOptions>(find(plan, "tls:relay.example:443").options);
  ASSERT_TRUE(tls.proxy.has_value());
  const auto& ws = std::get<probes::websocket::WebSocketOptions>(
      find(plan, "websocket:relay.example:443").options);
  ASSERT_TRUE(ws.proxy.has_value());
  EXPECT_FALSE(ws.forward_proxy);  // wss tunnels
}

TEST(PlanBuilder, NoProxyHostsAreCheckedDirectlyAndNamedInTheNotes) {
  const auto settings = with_proxy(".corp");
  const auto plan = plan_of(relay_profile(), settings);
  EXPECT_THAT(ids(plan), ElementsAre("proxy:relay.example:443", "tls:relay.example:443",
                                     "websocket:relay.example:443", "proxy:relay.example:9350",
                                     "dns:db.corp", "tcp:db.corp:5432"));
  const auto notes = proxy_notes(relay_profile(), settings);
  std::map<std::string, std::string> by_key;
  for (const auto& n : notes) by_key[n.key] += n.value + "\n";
  EXPECT_THAT(by_key["proxy"], HasSubstr("http://proxy.corp:3128 (from --proxy"));
  EXPECT_THAT(by_key["no_proxy"], HasSubstr("NO_PROXY: .corp"));
  EXPECT_THAT(by_key["proxy bypass"], HasSubstr("db.corp:5432 direct: NO_PROXY matched .corp"));
}

TEST(PlanBuilder, WsThroughAnHttpProxyIsAForwardRequestThatNeedsNoTunnel) {
  auto profile = relay_profile();
  profile.endpoints[0].tls = false;
  profile.endpoints[0].ports = {80};
  const auto plan = plan_of(profile, with_proxy());
  const auto& ws = std::get<probes::websocket::WebSocketOptions>(
      find(plan, "websocket:relay.example:80").options);
  EXPECT_FALSE(ws.use_tls);
  EXPECT_TRUE(ws.forward_proxy);
  EXPECT_TRUE(deps(plan, "websocket:relay.example:80").empty());
}

TEST(PlanBuilder, TheIdleCheckIsPlannedOnlyWhenAskedAndFollowsTheWebSocketCheck) {
  auto settings = PlanSettings{};
  auto plan = plan_of(relay_profile(), settings);
  for (const auto& s : plan) EXPECT_NE(s.id.rfind("idle:", 0), 0u) << s.id;

  settings.with_idle = true;
  settings.idle_required = std::chrono::seconds(5);
  plan = plan_of(relay_profile(), settings);
  const auto& idle = find(plan, "idle:relay.example:443");
  EXPECT_THAT(deps(plan, "idle:relay.example:443"), ElementsAre("websocket:relay.example:443"));
  const auto& options = std::get<probes::idle::IdleOptions>(idle.options);
  EXPECT_EQ(options.required, std::chrono::seconds(5));
  EXPECT_EQ(options.websocket.path, "/$hc/gw?sb-hc-action=listen");
  // Room for the ladder (5 s + 1 s margin + the pong wait) and for opening its connections.
  EXPECT_EQ(idle.timeout, probes::idle::longest_wait(options) + std::chrono::seconds(4));

  auto profile = relay_profile();
  profile.idle.run = true;  // the profile asks for it: no flag needed
  plan = plan_of(profile, PlanSettings{});
  EXPECT_EQ(
      std::get<probes::idle::IdleOptions>(find(plan, "idle:relay.example:443").options).required,
      std::chrono::seconds(30));
}

TEST(PlanBuilder, WithoutAWebSocketEndpointTheIdleCheckGoesToTheRelayUrl) {
  auto profile = relay_profile();
  profile.endpoints[0].websocket = false;
  profile.relay.url = "wss://relay.example:9443/$hc/gw";
  PlanSettings settings;
  settings.with_idle = true;
  auto plan = plan_of(profile, settings);
  const auto& idle = find(plan, "idle:relay.example:9443");
  const auto& options = std::get<probes::idle::IdleOptions>(idle.options);
  EXPECT_EQ(options.websocket.path, "/$hc/gw?sb-hc-action=listen");
  EXPECT_TRUE(options.websocket.use_tls);

  profile.relay.url.clear();
  const auto failed = build_plan(profile, settings);
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed.error().message, HasSubstr("needs an endpoint with websocket = true"));
}

TEST(PlanBuilder, RelayTokensAreMadeForEachWebSocketUrl) {
  PlanSettings settings;
  std::vector<std::string> urls;
  settings.relay_token_for = [&](const std::string& url) {
    urls.push_back(url);
    return probes::websocket::TokenSource([] {
      return core::Result<probes::websocket::RelayToken>(
          probes::websocket::RelayToken{core::Secret("t"), "test"});
    });
  };
  settings.with_idle = true;
  const auto plan = plan_of(relay_profile(), settings);
  EXPECT_THAT(urls, ElementsAre("wss://relay.example:443/$hc/gw?sb-hc-action=listen"));
  EXPECT_TRUE(static_cast<bool>(std::get<probes::websocket::WebSocketOptions>(
                                    find(plan, "websocket:relay.example:443").options)
                                    .token));
  EXPECT_TRUE(static_cast<bool>(
      std::get<probes::idle::IdleOptions>(find(plan, "idle:relay.example:443").options)
          .websocket.token));
}

TEST(PlanBuilder, OnlyAcceptsTheNewKinds) {
  PlanSettings settings = with_proxy();
  settings.only_kinds = {"proxy"};
  EXPECT_THAT(
      ids(plan_of(relay_profile(), settings)),
      ElementsAre("proxy:relay.example:443", "proxy:relay.example:9350", "proxy:db.corp:5432"));
  settings.only_kinds = {"websocket"};
  const auto plan = plan_of(relay_profile(), settings);
  EXPECT_THAT(ids(plan), ElementsAre("websocket:relay.example:443"));
  EXPECT_TRUE(plan[0].depends_on.empty());
}

TEST(PlanBuilder, WithARelayQueryTheE2eCheckFollowsTheRelaysWebSocketCheckWithTheSendRule) {
  auto profile = relay_profile();
  profile.relay.url = "wss://relay.example/$hc/gw";
  profile.relay.query = "SELECT * FROM sample";
  profile.relay.datasource = "sales";
  PlanSettings settings;
  std::vector<std::string> send_urls;
  settings.relay_send_token_for = [&](const std::string& url) {
    send_urls.push_back(url);
    return probes::websocket::TokenSource([] {
      return core::Result<probes::websocket::RelayToken>(
          probes::websocket::RelayToken{core::Secret("t"), "test"});
    });
  };
  const auto plan = plan_of(profile, settings);
  const auto& e2e = find(plan, "e2e:relay.example:443");
  EXPECT_EQ(e2e.endpoint, "Relay");
  EXPECT_TRUE(e2e.required);
  EXPECT_THAT(deps(plan, "e2e:relay.example:443"), ElementsAre("websocket:relay.example:443"));
  const auto& options = std::get<probes::e2e::E2eOptions>(e2e.options);
  EXPECT_EQ(options.sql, "SELECT * FROM sample");
  EXPECT_EQ(options.datasource, "sales");
  EXPECT_EQ(options.keep_rows, 0u);
  EXPECT_THAT(options.websocket.path,
              ::testing::StartsWith("/$hc/gw?sb-hc-action=connect&sb-hc-id="));
  EXPECT_TRUE(options.websocket.use_tls);
  EXPECT_TRUE(static_cast<bool>(options.websocket.token));
  ASSERT_EQ(send_urls.size(), 1u);
  EXPECT_THAT(send_urls[0],
              ::testing::StartsWith("wss://relay.example:443/$hc/gw?sb-hc-action=connect"));

  settings.only_kinds = {"e2e"};
  const auto only = plan_of(profile, settings);
  EXPECT_THAT(ids(only), ElementsAre("e2e:relay.example:443"));
  EXPECT_TRUE(only[0].depends_on.empty());
}

TEST(PlanBuilder, NoE2eCheckWithoutARelayQueryAndABadRelayUrlIsAnError) {
  auto profile = relay_profile();
  profile.relay.url = "wss://relay.example/$hc/gw";
  for (const auto& s : plan_of(profile, PlanSettings{})) EXPECT_NE(s.id.rfind("e2e:", 0), 0u);
  profile.relay.query = "SELECT 1";
  profile.relay.url = "wss://relay.example/";
  const auto failed = build_plan(profile, PlanSettings{});
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed.error().message, HasSubstr("no Hybrid Connection path"));
}

// --- only_ids: the checks asked for plus what they depend on, renumbered.

rules::Profile two_endpoint_profile() {
  auto profile = rules::parse_profile(
      "name = \"p\"\n[tls]\nca_file = \"/nonexistent/ca.pem\"\n"
      "[[endpoint]]\nname = \"A\"\nhost = \"a.example.test\"\nports = [443, 9350]\ntls = true\n"
      "[[endpoint]]\nname = \"B\"\nhost = \"b.example.test\"\nports = [443]\n",
      "p.toml");
  EXPECT_TRUE(profile.has_value()) << profile.error().message;
  return *profile;
}

TEST(PlanOnlyIds, KeepsTheCheckAndWhatItDependsOnInPlanOrder) {
  PlanSettings settings;
  settings.only_ids = {"tls:a.example.test:9350"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(ids(*plan), (std::vector<std::string>{"dns:a.example.test", "tcp:a.example.test:9350",
                                                  "tls:a.example.test:9350"}));
  EXPECT_TRUE((*plan)[0].depends_on.empty());
  EXPECT_EQ((*plan)[1].depends_on, std::vector<std::size_t>{0});
  EXPECT_EQ((*plan)[2].depends_on, std::vector<std::size_t>{1});
}

TEST(PlanOnlyIds, ACheckWithoutDependenciesRunsAlone) {
  PlanSettings settings;
  settings.only_ids = {"dns:b.example.test"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(ids(*plan), std::vector<std::string>{"dns:b.example.test"});
}

TEST(PlanOnlyIds, AnUnknownIdIsNotFoundAndNamesTheKnownOnes) {
  PlanSettings settings;
  settings.only_ids = {"tcp:a.example.test:444"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(plan.error().message,
            "unknown check 'tcp:a.example.test:444' (the profile's checks: dns:a.example.test, "
            "tcp:a.example.test:443, tls:a.example.test:443, tcp:a.example.test:9350, "
            "tls:a.example.test:9350, dns:b.example.test, tcp:b.example.test:443)");
}

TEST(PlanOnlyIds, WithoutIdsThePlanIsWhole) {
  const auto plan = build_plan(two_endpoint_profile(), PlanSettings{});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->size(), 7u);
}

}  // namespace
}  // namespace gwprobe::cli
