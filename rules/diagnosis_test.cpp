// Diagnosis rules: advice per code, findings (grouping, folding, order) and the verdict, as tables.
#include "rules/diagnosis.hpp"

#include <gtest/gtest.h>

#include <set>

namespace gwprobe::rules {
namespace {

using core::Diagnosis;
using core::Status;

constexpr std::string_view kProfile = R"toml(
name = "diag"
https_mode = true

[proxy]
url = "http://alice:s3cr3t@proxy.test:3128"
auth = "ntlm"

[relay]
url = "wss://relay.test/$hc/cluster-a"
sas_key_name = "gateway"
sas_key_file = "/etc/gwprobe/gateway.key"
query = "SELECT * FROM sample"

[[endpoint]]
name = "Azure Relay"
host = "*.servicebus.windows.net"
probe_host = "gw.servicebus.windows.net"
ports = [443]
tls = true
websocket = true
websocket_path = "/$hc/x?sb-hc-action=listen"

[[endpoint]]
name = "Azure Relay (TCP mode)"
host = "*.servicebus.windows.net"
probe_host = "gw.servicebus.windows.net"
ports = ["9350-9354"]
requirement = "tcp-mode"

[[endpoint]]
name = "Placeholder relay"
host = "*.servicebus.usgovcloudapi.net"
probe_host = "replace-with-your-relay.servicebus.usgovcloudapi.net"
probe_host_is_example = true
ports = [443]

[[endpoint]]
name = "Sign-in"
host = "login.microsoftonline.com"
ports = [443]

[[endpoint]]
name = "Revocation"
host = "crl3.digicert.com"
ports = [80]
requirement = "optional"
)toml";

Profile test_profile(bool https_mode = true) {
  auto profile = parse_profile(kProfile, "diag.toml");
  EXPECT_TRUE(profile) << profile.error().message;
  profile->https_mode = https_mode;
  return *profile;
}

core::ProbeResult result(std::string id, std::string kind, std::string target, std::string endpoint,
                         Status status, Diagnosis diagnosis, bool required = true) {
  core::ProbeResult r;
  r.id = std::move(id);
  r.kind = std::move(kind);
  r.target = std::move(target);
  r.endpoint = std::move(endpoint);
  r.status = status;
  r.diagnosis = diagnosis;
  r.required = required;
  r.message = "message";
  return r;
}

core::ProbeResult relay_failure(Diagnosis d) {
  return result("x", "tcp", "gw.servicebus.windows.net:443", "Azure Relay", Status::fail, d);
}

// ---- advice ----

TEST(AdviceFor, GivesEveryDiagnosisCodeItsOwnNonEmptyAdvice) {
  const auto profile = test_profile();
  std::set<std::string> seen;
  for (const auto& info : core::all_diagnoses()) {
    const auto advice = advice_for(relay_failure(info.diagnosis), profile);
    EXPECT_FALSE(advice.empty()) << info.code;
    EXPECT_EQ(advice.find('\n'), std::string::npos) << info.code;
    EXPECT_TRUE(seen.insert(advice).second) << info.code << " shares its advice: " << advice;
    EXPECT_EQ(advice.find("s3cr3t"), std::string::npos) << info.code;
  }
  EXPECT_EQ(seen.size(), core::all_diagnoses().size());
}

struct AdviceCase {
  const char* name;
  Diagnosis diagnosis;
  const char* target;
  const char* endpoint;
  std::vector<std::pair<std::string, std::string>> facts;
  bool https_mode;
  std::string expected;
};

class AdviceTable : public ::testing::TestWithParam<AdviceCase> {};

TEST_P(AdviceTable, IsConcreteAndUsesTheFacts) {
  const auto& c = GetParam();
  auto r = result("id", "tcp", c.target, c.endpoint, Status::fail, c.diagnosis);
  for (const auto& [key, value] : c.facts) r.set_fact(key, value);
  EXPECT_EQ(advice_for(r, test_profile(c.https_mode)), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, AdviceTable,
    ::testing::Values(
        AdviceCase{"filtered_relay",
                   Diagnosis::tcp_filtered,
                   "gw.servicebus.windows.net:443",
                   "Azure Relay",
                   {},
                   true,
                   "Allow outbound TCP 443 from this machine to *.servicebus.windows.net on the "
                   "firewall (connection attempts were dropped without an answer)."},
        AdviceCase{"filtered_tcp_mode_in_https_mode",
                   Diagnosis::tcp_filtered,
                   "gw.servicebus.windows.net:9351",
                   "Azure Relay (TCP mode)",
                   {},
                   true,
                   "Allow outbound TCP 9351 from this machine to *.servicebus.windows.net on the "
                   "firewall (connection attempts were dropped without an answer). In HTTPS mode "
                   "(this profile) the gateway does not need these ports: keep it in HTTPS mode, "
                   "or open them to run it in TCP mode."},
        AdviceCase{"filtered_tcp_mode_in_tcp_mode",
                   Diagnosis::tcp_filtered,
                   "gw.servicebus.windows.net:9351",
                   "Azure Relay (TCP mode)",
                   {},
                   false,
                   "Allow outbound TCP 9351 from this machine to *.servicebus.windows.net on the "
                   "firewall (connection attempts were dropped without an answer). Or set the "
                   "gateway to HTTPS mode (gateway app > Network > HTTPS mode): it then needs "
                   "only 443."},
        AdviceCase{"intercepted_names_the_issuer",
                   Diagnosis::tls_intercepted,
                   "gw.servicebus.windows.net:443",
                   "Azure Relay",
                   {{"issuer", "Contoso Inspection CA"}},
                   true,
                   "Add *.servicebus.windows.net to the TLS-inspection bypass list of Contoso "
                   "Inspection CA: the gateway needs the chain to end at the Microsoft/DigiCert "
                   "roots, and re-signed certificates break it."},
        AdviceCase{"intercepted_without_issuer",
                   Diagnosis::tls_intercepted,
                   "login.microsoftonline.com:443",
                   "Sign-in",
                   {},
                   true,
                   "Add login.microsoftonline.com to the TLS-inspection bypass list of the "
                   "inspecting proxy or firewall: the gateway needs the chain to end at the "
                   "Microsoft/DigiCert roots, and re-signed certificates break it."},
        AdviceCase{"nxdomain_on_a_placeholder_says_how_to_override",
                   Diagnosis::dns_nxdomain,
                   "replace-with-your-relay.servicebus.usgovcloudapi.net",
                   "Placeholder relay",
                   {{"resolver", "10.0.0.53:53"}},
                   true,
                   "replace-with-your-relay.servicebus.usgovcloudapi.net is only a placeholder "
                   "for *.servicebus.usgovcloudapi.net: rerun with --probe-host "
                   "'*.servicebus.usgovcloudapi.net=YOUR-HOST' (your relay namespace is in the "
                   "gateway app's Diagnostics > Network ports test results). The resolver at "
                   "10.0.0.53:53 says replace-with-your-relay.servicebus.usgovcloudapi.net does "
                   "not exist. Make the DNS this machine uses resolve public names under "
                   "servicebus.usgovcloudapi.net: forward servicebus.usgovcloudapi.net to a "
                   "resolver that sees public DNS, or remove the internal zone that hides it."},
        AdviceCase{"private_answer_lists_addresses",
                   Diagnosis::dns_private_answer,
                   "login.microsoftonline.com",
                   "Sign-in",
                   {{"addresses", "10.10.0.1"}},
                   true,
                   "login.microsoftonline.com resolved to a private address (10.10.0.1): unless "
                   "login.microsoftonline.com is meant to go through a private endpoint, remove "
                   "the internal DNS override, sinkhole (RPZ) or hosts-file entry for "
                   "login.microsoftonline.com."},
        AdviceCase{"proxy_auth_redacts_the_profile_password",
                   Diagnosis::proxy_auth_required,
                   "login.microsoftonline.com:443",
                   "Sign-in",
                   {{"proxy_auth", "NTLM, Basic"}},
                   true,
                   "The proxy http://alice:***@proxy.test:3128 requires authentication (it offers "
                   "NTLM, Basic): give credentials ([proxy] credentials_file, or the user in "
                   "--proxy), or exempt this machine or login.microsoftonline.com from proxy "
                   "authentication. The gateway's service account must be able to authenticate "
                   "too."},
        AdviceCase{"proxy_fact_wins_over_the_profile",
                   Diagnosis::proxy_connect_denied,
                   "gw.servicebus.windows.net:9350",
                   "Azure Relay (TCP mode)",
                   {{"proxy", "http://squid.lab:3128"}, {"http_status", "403"}},
                   false,
                   "The proxy http://squid.lab:3128 refuses CONNECT to *.servicebus.windows.net "
                   "port 9350 (HTTP 403): allow *.servicebus.windows.net on port 9350 in the "
                   "proxy's CONNECT rules (many proxies allow CONNECT only to 443). Or set the "
                   "gateway to HTTPS mode (gateway app > Network > HTTPS mode): it then needs "
                   "only 443."},
        AdviceCase{"idle_cut_gives_measured_and_required",
                   Diagnosis::idle_cut,
                   "gw.servicebus.windows.net:443",
                   "Azure Relay",
                   {{"idle_cut_seconds", "120"}, {"idle_cut_how", "rst"}},
                   true,
                   "Idle connections to *.servicebus.windows.net are cut after 120 s (rst), but "
                   "the gateway needs at least 300 s: raise the idle timeout of the proxy, NAT or "
                   "firewall on the path to 300 s or more (or exempt *.servicebus.windows.net "
                   "from it)."},
        AdviceCase{"relay_auth_names_key_and_file",
                   Diagnosis::relay_auth_failed,
                   "wss://relay.test/$hc/cluster-a",
                   "",
                   {},
                   true,
                   "The relay rejected the SAS token: check [relay] sas_key_name (\"gateway\") "
                   "and the key in /etc/gwprobe/gateway.key, that the rule has Listen (gateway) "
                   "or Send (client) rights on the path, and this machine's clock (tokens "
                   "expire)."},
        AdviceCase{"no_listener_names_the_path",
                   Diagnosis::relay_no_listener,
                   "wss://relay.test/$hc/cluster-a",
                   "",
                   {},
                   true,
                   "No gateway listens on /$hc/cluster-a: start the gateway (gwprobe gateway "
                   "run, or the gateway service), check that it is registered to this path "
                   "(cluster) and that its log shows the accept."},
        AdviceCase{"bgp_names_the_community",
                   Diagnosis::bgp_community_missing,
                   "Europe",
                   "",
                   {{"missing_community", "12076:51003"}, {"geography", "Europe"}},
                   true,
                   "Add 12076:51003 to the ExpressRoute route filter: Power Platform needs both "
                   "regional BGP communities of its geography (Europe)."}),
    [](const ::testing::TestParamInfo<AdviceCase>& param) {
      return std::string(param.param.name);
    });

TEST(AdviceFor, TheE2eCheckGetsAdviceForItsOwnLeg) {
  auto profile = test_profile();
  profile.relay.send_key_name = "client";
  profile.relay.send_key_file = "/etc/gwprobe/client.key";
  profile.relay.datasource = "sales";
  const auto e2e = [](Diagnosis d, std::vector<std::pair<std::string, std::string>> facts = {}) {
    auto r = result("e2e", "e2e", "relay.test:443", "Relay", Status::fail, d);
    for (const auto& [key, value] : facts) r.set_fact(key, value);
    return r;
  };
  const auto auth =
      advice_for(e2e(Diagnosis::relay_auth_failed, {{"http_status", "401"}}), profile);
  EXPECT_NE(auth.find("client's SAS token (HTTP 401)"), std::string::npos) << auth;
  EXPECT_NE(auth.find("send_key_name (\"client\")"), std::string::npos) << auth;
  EXPECT_NE(auth.find("/etc/gwprobe/client.key"), std::string::npos) << auth;
  EXPECT_NE(auth.find("Send rights"), std::string::npos) << auth;

  const auto busy =
      advice_for(e2e(Diagnosis::relay_no_listener, {{"http_status", "503"}}), profile);
  EXPECT_NE(busy.find("busy"), std::string::npos) << busy;

  const auto no_source = advice_for(
      e2e(Diagnosis::e2e_query_failed, {{"e2e_gateway_error", "datasource: no such source"}}),
      profile);
  EXPECT_NE(no_source.find("(\"sales\")"), std::string::npos) << no_source;
  const auto sealed = advice_for(
      e2e(Diagnosis::e2e_query_failed, {{"e2e_gateway_error", "credentials: cannot open"}}),
      profile);
  EXPECT_NE(sealed.find("public key"), std::string::npos) << sealed;
  const auto database = advice_for(
      e2e(Diagnosis::e2e_query_failed, {{"e2e_gateway_error", "database: no such table: x"}}),
      profile);
  EXPECT_NE(database.find("(database: no such table: x)"), std::string::npos) << database;

  const auto corrupt =
      advice_for(e2e(Diagnosis::e2e_result_corrupt, {{"e2e_rows", "42"}}), profile);
  EXPECT_NE(corrupt.find("after 42 rows"), std::string::npos) << corrupt;
}

TEST(AdviceFor, MentionsAPlaceholderProbeHostOnlyForNetworkFailures) {
  const auto profile = test_profile();
  auto r = result("id", "tcp", "replace-with-your-relay.servicebus.usgovcloudapi.net:443",
                  "Placeholder relay", Status::fail, Diagnosis::tcp_filtered);
  EXPECT_EQ(advice_for(r, profile)
                .rfind("replace-with-your-relay.servicebus.usgovcloudapi.net "
                       "is only a placeholder",
                       0),
            0u);
  r.diagnosis = Diagnosis::probe_cancelled;
  EXPECT_EQ(advice_for(r, profile).find("placeholder"), std::string::npos);
  // Once overridden, the note is gone.
  auto overridden = profile;
  ASSERT_TRUE(override_probe_host(overridden, "Placeholder relay=gw.servicebus.usgovcloudapi.net"));
  r.diagnosis = Diagnosis::tcp_filtered;
  EXPECT_EQ(advice_for(r, overridden).find("placeholder"), std::string::npos);
}

TEST(FillAdvice, FillsFailuresWarningsAndErrorsButKeepsProbeAdvice) {
  const auto profile = test_profile();
  for (const auto status : {Status::fail, Status::warn, Status::error}) {
    auto r = relay_failure(Diagnosis::tcp_refused);
    r.status = status;
    fill_advice(r, profile);
    EXPECT_EQ(r.advice, advice_for(r, profile));
  }
  auto own = relay_failure(Diagnosis::tcp_refused);
  own.advice = "The probe knows better.";
  fill_advice(own, profile);
  EXPECT_EQ(own.advice, "The probe knows better.");
  for (const auto status : {Status::pass, Status::skip}) {
    auto r = relay_failure(Diagnosis::ok);
    r.status = status;
    fill_advice(r, profile);
    EXPECT_TRUE(r.advice.empty());
  }
}

// ---- findings ----

TEST(Diagnose, MergesThePortsOfOneCodeOnOneEndpoint) {
  std::vector<core::ProbeResult> results;
  for (int port = 9350; port <= 9354; ++port) {
    results.push_back(result(
        "tcp:" + std::to_string(port), "tcp", "gw.servicebus.windows.net:" + std::to_string(port),
        "Azure Relay (TCP mode)", Status::warn, Diagnosis::tcp_filtered, false));
  }
  const auto findings = diagnose(results, test_profile());
  ASSERT_EQ(findings.size(), 1u);
  const auto& f = findings[0];
  EXPECT_EQ(f.diagnosis, Diagnosis::tcp_filtered);
  EXPECT_EQ(f.severity, Status::warn);
  EXPECT_EQ(f.summary,
            "TCP 9350-9354 to *.servicebus.windows.net: filtered (optional in HTTPS mode)");
  EXPECT_EQ(f.result_ids,
            (std::vector<std::string>{"tcp:9350", "tcp:9351", "tcp:9352", "tcp:9353", "tcp:9354"}));
  EXPECT_EQ(f.advice.rfind("Allow outbound TCP 9350-9354 from this machine to "
                           "*.servicebus.windows.net on the firewall",
                           0),
            0u)
      << f.advice;
}

TEST(Diagnose, KeepsDifferentEndpointsAndCodesApart) {
  const std::vector<core::ProbeResult> results = {
      result("a", "tcp", "gw.servicebus.windows.net:443", "Azure Relay", Status::fail,
             Diagnosis::tcp_filtered),
      result("b", "tcp", "login.microsoftonline.com:443", "Sign-in", Status::fail,
             Diagnosis::tcp_filtered),
      result("c", "tcp", "login.microsoftonline.com:443", "Sign-in", Status::fail,
             Diagnosis::tcp_refused),
  };
  const auto findings = diagnose(results, test_profile());
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].summary, "TCP 443 to *.servicebus.windows.net: filtered");
  EXPECT_EQ(findings[1].summary, "TCP 443 to login.microsoftonline.com: filtered");
  EXPECT_EQ(findings[2].summary, "TCP 443 to login.microsoftonline.com: refused");
}

TEST(Diagnose, OrdersFailThenErrorThenWarnAndByLayerWithin) {
  const std::vector<core::ProbeResult> results = {
      result("warn-tcp", "tcp", "crl3.digicert.com:80", "Revocation", Status::warn,
             Diagnosis::tcp_refused, false),
      result("fail-ws", "websocket", "gw.servicebus.windows.net:443", "Azure Relay", Status::fail,
             Diagnosis::ws_upgrade_stripped),
      result("error", "tls", "login.microsoftonline.com:443", "Sign-in", Status::error,
             Diagnosis::probe_error),
      result("fail-tls", "tls", "gw.servicebus.windows.net:443", "Azure Relay", Status::fail,
             Diagnosis::tls_intercepted),
      result("fail-dns", "dns", "login.microsoftonline.com", "Sign-in", Status::fail,
             Diagnosis::dns_timeout),
  };
  const auto findings = diagnose(results, test_profile());
  std::vector<std::string> order;
  for (const auto& f : findings) order.push_back(f.result_ids.at(0));
  EXPECT_EQ(order,
            (std::vector<std::string>{"fail-dns", "fail-tls", "fail-ws", "error", "warn-tcp"}));
  EXPECT_EQ(findings[0].summary, "DNS login.microsoftonline.com: no DNS answer (timeout)");
  EXPECT_EQ(findings[1].summary,
            "TLS 443 to *.servicebus.windows.net: intercepted (re-signed by TLS inspection)");
  EXPECT_EQ(findings[3].severity, Status::error);
  EXPECT_EQ(findings[3].summary, "TLS 443 to login.microsoftonline.com: could not be checked");
  EXPECT_EQ(findings[4].summary, "TCP 80 to crl3.digicert.com: refused (optional)");
}

TEST(Diagnose, FoldsSkippedDependentsIntoTheFailureTheyDependOn) {
  auto dns = result("dns:gw", "dns", "gw.servicebus.windows.net", "Azure Relay", Status::fail,
                    Diagnosis::dns_nxdomain);
  dns.set_fact("resolver", "10.0.0.53:53");
  std::vector<core::ProbeResult> results = {dns};
  // Linked by the runner's blocked_by fact, including a skip of a skip.
  auto tcp = result("tcp:gw:443", "tcp", "gw.servicebus.windows.net:443", "Azure Relay",
                    Status::skip, Diagnosis::dns_nxdomain);
  tcp.set_fact("blocked_by", "dns:gw");
  auto tls = result("tls:gw:443", "tls", "gw.servicebus.windows.net:443", "Azure Relay",
                    Status::skip, Diagnosis::dns_nxdomain);
  tls.set_fact("blocked_by", "tcp:gw:443");
  // Without the fact: same code on the same host, under another endpoint.
  auto legacy = result("tcp:gw:9350", "tcp", "gw.servicebus.windows.net:9350",
                       "Azure Relay (TCP mode)", Status::skip, Diagnosis::dns_nxdomain, false);
  // Not selected: no finding at all.
  auto unselected = result("idle", "idle", "gw.servicebus.windows.net:443", "Azure Relay",
                           Status::skip, Diagnosis::skipped);
  auto passed = result("dns:login", "dns", "login.microsoftonline.com", "Sign-in", Status::pass,
                       Diagnosis::ok);
  results.insert(results.end(), {tcp, tls, legacy, unselected, passed});

  const auto findings = diagnose(results, test_profile());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].summary,
            "DNS gw.servicebus.windows.net (for *.servicebus.windows.net): name does not exist "
            "(NXDOMAIN); 3 dependent checks skipped");
  EXPECT_EQ(findings[0].result_ids,
            (std::vector<std::string>{"dns:gw", "tcp:gw:443", "tls:gw:443", "tcp:gw:9350"}));
  EXPECT_EQ(findings[0].severity, Status::fail);
  EXPECT_NE(findings[0].advice.find("The resolver at 10.0.0.53:53 says"), std::string::npos);
}

TEST(Diagnose, FoldsAPlainSkipThatNamesTheCheckItWaitedFor) {
  auto tcp = result("tcp:login:443", "tcp", "login.microsoftonline.com:443", "Sign-in",
                    Status::fail, Diagnosis::tcp_filtered);
  auto tls = result("tls:login:443", "tls", "login.microsoftonline.com:443", "Sign-in",
                    Status::skip, Diagnosis::skipped);
  tls.set_fact("blocked_by", "tcp:login:443");
  // blocked_by pointing at a result that is not there: nothing to fold into, no finding.
  auto orphan = result("ws:x", "websocket", "x.test:443", "", Status::skip, Diagnosis::skipped);
  orphan.set_fact("blocked_by", "tcp:x:443");
  const auto findings = diagnose({tcp, tls, orphan}, test_profile());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].summary,
            "TCP 443 to login.microsoftonline.com: filtered; 1 dependent check skipped");
  EXPECT_EQ(findings[0].result_ids, (std::vector<std::string>{"tcp:login:443", "tls:login:443"}));
}

TEST(Diagnose, KeepsProbeAdviceWhenTheGroupAgreesOnIt) {
  auto a = result("a", "tls", "gw.servicebus.windows.net:443", "Azure Relay", Status::fail,
                  Diagnosis::tls_intercepted);
  a.set_fact("issuer", "Contoso Inspection CA");
  a.advice = "Bypass inspection for the relay on the Contoso proxy.";
  const auto findings = diagnose({a}, test_profile());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].advice, "Bypass inspection for the relay on the Contoso proxy.");
  EXPECT_EQ(findings[0].summary,
            "TLS 443 to *.servicebus.windows.net: intercepted by Contoso Inspection CA");
}

TEST(Diagnose, DescribesChecksWithoutAnEndpointByTheirTarget) {
  auto e2e = result("e2e", "e2e", "wss://relay.test/$hc/cluster-a", "", Status::fail,
                    Diagnosis::relay_no_listener);
  const auto findings = diagnose({e2e}, test_profile());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].summary, "Relay wss://relay.test/$hc/cluster-a: no gateway listening");
}

TEST(Diagnose, FindsNothingWhenEverythingPassed) {
  const std::vector<core::ProbeResult> results = {result(
      "a", "tcp", "gw.servicebus.windows.net:443", "Azure Relay", Status::pass, Diagnosis::ok)};
  EXPECT_TRUE(diagnose(results, test_profile()).empty());
  EXPECT_TRUE(diagnose({}, test_profile()).empty());
}

// ---- verdict ----

struct VerdictCase {
  const char* name;
  std::vector<std::tuple<Status, Diagnosis, bool>> results;  ///< status, code, required
  core::Verdict normal;
  core::Verdict strict;
};

class VerdictTable : public ::testing::TestWithParam<VerdictCase> {};

TEST_P(VerdictTable, FollowsTheExitCodeContract) {
  std::vector<core::ProbeResult> results;
  for (const auto& [status, diagnosis, required] : GetParam().results) {
    results.push_back(result("r" + std::to_string(results.size()), "tcp", "h.test:443", "", status,
                             diagnosis, required));
  }
  EXPECT_EQ(verdict_for(results, false), GetParam().normal);
  EXPECT_EQ(verdict_for(results, true), GetParam().strict);
}

using V = core::Verdict;
INSTANTIATE_TEST_SUITE_P(
    Cases, VerdictTable,
    ::testing::Values(VerdictCase{"no_results", {}, V::ready, V::ready},
                      VerdictCase{
                          "all_pass", {{Status::pass, Diagnosis::ok, true}}, V::ready, V::ready},
                      VerdictCase{"optional_warning",
                                  {{Status::pass, Diagnosis::ok, true},
                                   {Status::warn, Diagnosis::tcp_filtered, false}},
                                  V::degraded,
                                  V::not_ready},
                      VerdictCase{"required_failure",
                                  {{Status::warn, Diagnosis::tcp_filtered, false},
                                   {Status::fail, Diagnosis::tcp_filtered, true}},
                                  V::not_ready,
                                  V::not_ready},
                      VerdictCase{"required_error",
                                  {{Status::error, Diagnosis::probe_error, true}},
                                  V::not_ready,
                                  V::not_ready},
                      VerdictCase{"optional_error",
                                  {{Status::error, Diagnosis::probe_error, false}},
                                  V::degraded,
                                  V::not_ready},
                      VerdictCase{"optional_fail",
                                  {{Status::fail, Diagnosis::tcp_refused, false}},
                                  V::degraded,
                                  V::not_ready},
                      VerdictCase{"cancelled_optional",
                                  {{Status::pass, Diagnosis::ok, true},
                                   {Status::error, Diagnosis::probe_cancelled, false}},
                                  V::not_ready,
                                  V::not_ready},
                      VerdictCase{"cancelled_before_start",
                                  {{Status::skip, Diagnosis::probe_cancelled, true}},
                                  V::not_ready,
                                  V::not_ready},
                      VerdictCase{"skips_only",
                                  {{Status::skip, Diagnosis::skipped, true},
                                   {Status::skip, Diagnosis::dns_nxdomain, false}},
                                  V::ready,
                                  V::ready}),
    [](const ::testing::TestParamInfo<VerdictCase>& param) {
      return std::string(param.param.name);
    });

TEST(Advice, ARefusalOnLoopbackMeansNothingListensNotAFirewall) {
  auto profile = test_profile();
  auto r = relay_failure(core::Diagnosis::tcp_refused);
  r.set_fact("addresses", std::vector<std::string>{"127.0.0.1", "::1"});
  const auto advice = advice_for(r, profile);
  EXPECT_EQ(advice.rfind("Nothing is listening on", 0), 0u) << advice;
  EXPECT_EQ(advice.find("firewall"), std::string::npos);
  profile.cloud = "local";
  EXPECT_NE(advice_for(r, profile).find("gwprobe relay"), std::string::npos);
  r.set_fact("addresses", std::vector<std::string>{"127.0.0.1", "203.0.113.5"});
  EXPECT_NE(advice_for(r, profile).find("firewall REJECT"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::rules
