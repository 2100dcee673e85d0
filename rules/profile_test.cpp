// The profile loader on valid input: every key, defaults, paths, ${VAR}, --probe-host.
#include "rules/profile.hpp"

#include <gtest/gtest.h>

#include <map>

namespace gwprobe::rules {
namespace {
using namespace std::chrono_literals;

constexpr std::string_view kEveryKey = R"(
name = "full"
description = "every key once"
cloud = "custom"
https_mode = false
timeout = "2.5s"

[dns]
reference_resolvers = ["10.0.0.53", "[2001:db8::53]:5353"]
private_answers_expected = true

[tls]
min_version = "1.3"
ca_file = "certs/ca.pem"
spki_pins = ["aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
             "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
expiry_warning_days = 30

[[tls.expected_root]]
name = "Lab Root"
sha1 = "a8:98:5d:3a:65:e5:e5:c4:b2:d7:d6:6d:40:c6:dd:2f:b1:9c:54:36"
sha256 = "0000000000000000000000000000000000000000000000000000000000000001"
source = "lab"

[proxy]
url = "http://proxy.lab.test:3128"
auth = "NTLM"
credentials_file = "/etc/gwprobe/proxy.cred"

[idle]
required = "4m"
run = true

[relay]
url = "wss://relay.lab.test/$hc/cluster-a"
sas_key_name = "listener"
sas_key_file = "keys/listener.key"
query = "SELECT 1"

[bgp]
geography = "Europe"
route_filter = "filters/route-filter.json"
routes = "/var/lib/bird/routes.txt"

[[endpoint]]
name = "Relay"
host = "*.Relay.Lab.Test"
probe_host = "GW1.relay.lab.test"
probe_host_is_example = true
ports = [443, "9350-9352", 8443]
purpose = "lab relay"
requirement = "tcp-mode"
tls = true
websocket = true
websocket_path = "/$hc/cluster-a?sb-hc-action=listen"
source = "lab-facts"

[[endpoint]]
name = "Plain"
host = "10.1.2.3"
ports = 80
)";

TEST(ParseProfile, ReadsEveryKey) {
  auto p = parse_profile(kEveryKey, "/etc/gwprobe/profiles/full.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "full");
  EXPECT_EQ(p->description, "every key once");
  EXPECT_EQ(p->cloud, "custom");
  EXPECT_EQ(p->source, "/etc/gwprobe/profiles/full.toml");
  EXPECT_FALSE(p->https_mode);
  EXPECT_EQ(p->timeout, 2500ms);
  EXPECT_EQ(p->dns.reference_resolvers,
            (std::vector<std::string>{"10.0.0.53", "[2001:db8::53]:5353"}));
  EXPECT_TRUE(p->dns.private_answers_expected);
  EXPECT_EQ(p->tls.min_version, "1.3");
  EXPECT_EQ(p->tls.ca_file, "/etc/gwprobe/profiles/certs/ca.pem");
  ASSERT_EQ(p->tls.spki_pins.size(), 2u);
  EXPECT_EQ(p->tls.spki_pins[0],
            "AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899");
  EXPECT_EQ(p->tls.spki_pins[1], "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(p->tls.expiry_warning_days, 30);
  ASSERT_EQ(p->tls.expected_roots.size(), 1u);
  EXPECT_EQ(p->tls.expected_roots[0].name, "Lab Root");
  EXPECT_EQ(p->tls.expected_roots[0].sha1, "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436");
  EXPECT_EQ(p->tls.expected_roots[0].source, "lab");
  EXPECT_EQ(p->tls.expected_root_sha1,
            (std::vector<std::string>{"A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436"}));
  EXPECT_EQ(p->tls.expected_root_sha256.size(), 1u);
  EXPECT_EQ(p->tls.expected_root_names, (std::vector<std::string>{"Lab Root"}));
  EXPECT_EQ(p->proxy.url, "http://proxy.lab.test:3128");
  EXPECT_EQ(p->proxy.auth, "ntlm");
  EXPECT_EQ(p->proxy.credentials_file, "/etc/gwprobe/proxy.cred");
  EXPECT_EQ(p->idle.required, 240s);
  EXPECT_TRUE(p->idle.run);
  EXPECT_EQ(p->relay.url, "wss://relay.lab.test/$hc/cluster-a");
  EXPECT_EQ(p->relay.sas_key_name, "listener");
  EXPECT_EQ(p->relay.sas_key_file, "/etc/gwprobe/profiles/keys/listener.key");
  EXPECT_EQ(p->relay.query, "SELECT 1");
  EXPECT_EQ(p->bgp.geography, "Europe");
  EXPECT_EQ(p->bgp.route_filter, "/etc/gwprobe/profiles/filters/route-filter.json");
  EXPECT_EQ(p->bgp.routes, "/var/lib/bird/routes.txt");

  ASSERT_EQ(p->endpoints.size(), 2u);
  const auto& relay = p->endpoints[0];
  EXPECT_EQ(relay.name, "Relay");
  EXPECT_EQ(relay.host, "*.relay.lab.test");
  EXPECT_EQ(relay.probe_host, "gw1.relay.lab.test");
  EXPECT_TRUE(relay.probe_host_is_example);
  EXPECT_EQ(relay.ports, (std::vector<std::uint16_t>{443, 9350, 9351, 9352, 8443}));
  EXPECT_EQ(relay.purpose, "lab relay");
  EXPECT_EQ(relay.requirement, Requirement::tcp_mode);
  EXPECT_TRUE(relay.tls);
  EXPECT_TRUE(relay.websocket);
  EXPECT_EQ(relay.websocket_path, "/$hc/cluster-a?sb-hc-action=listen");
  EXPECT_EQ(relay.source, "lab-facts");
  EXPECT_EQ(relay.where.to_string(), "/etc/gwprobe/profiles/full.toml:45:1");

  const auto& plain = p->endpoints[1];
  EXPECT_EQ(plain.probe_host, "10.1.2.3");  // a concrete host is its own probe host
  EXPECT_EQ(plain.ports, (std::vector<std::uint16_t>{80}));
  EXPECT_EQ(plain.requirement, Requirement::required);
  EXPECT_FALSE(plain.tls);
  EXPECT_FALSE(plain.websocket);
}

TEST(ParseProfile, FillsDefaultsForEverythingButNameAndEndpointBasics) {
  auto p = parse_profile(
      "name = \"tiny\"\n[[endpoint]]\nname = \"a\"\nhost = \"a.test\"\nports = [443]\n",
      "tiny.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->cloud, "custom");
  EXPECT_TRUE(p->https_mode);
  EXPECT_EQ(p->timeout, 5000ms);
  EXPECT_EQ(p->tls.min_version, "1.2");
  EXPECT_EQ(p->tls.expiry_warning_days, 14);
  EXPECT_TRUE(p->tls.expected_roots.empty());
  EXPECT_EQ(p->proxy.auth, "any");
  EXPECT_EQ(p->idle.required, 300s);
  EXPECT_FALSE(p->idle.run);
  EXPECT_TRUE(p->relay.url.empty());
  EXPECT_EQ(p->endpoints.at(0).requirement, Requirement::required);
  EXPECT_TRUE(p->endpoints.at(0).purpose.empty());
}

TEST(ParseProfile, TakesAnIntegerTimeoutAsSecondsAndRoundsIdleUpToWholeSeconds) {
  auto p = parse_profile("name = \"t\"\ntimeout = 7\n[idle]\nrequired = \"299.2s\"\n", "t.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->timeout, 7s);
  EXPECT_EQ(p->idle.required, 300s);
}

TEST(ParseProfile, ResolvesRelativePathsAgainstTheCurrentDirectoryWithoutAFileDirectory) {
  auto p = parse_profile("name = \"t\"\n[tls]\nca_file = \"./certs/../ca.pem\"\n", "t.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->tls.ca_file, "ca.pem");
}

TEST(ParseProfile, ExpandsVariablesInPathKeysOnly) {
  ::setenv("GWPROBE_RULES_TEST_DIR", "/opt/lab", 1);
  ::unsetenv("GWPROBE_RULES_TEST_UNSET");
  auto p = parse_profile(R"(name = "v"
description = "${GWPROBE_RULES_TEST_DIR} stays as written here"
[tls]
ca_file = "${GWPROBE_RULES_TEST_DIR}/ca.pem"
[relay]
sas_key_file = "${GWPROBE_RULES_TEST_UNSET:-keys}/k.key"
)",
                         "dir/v.toml");
  ::unsetenv("GWPROBE_RULES_TEST_DIR");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->description, "${GWPROBE_RULES_TEST_DIR} stays as written here");
  EXPECT_EQ(p->tls.ca_file, "/opt/lab/ca.pem");
  EXPECT_EQ(p->relay.sas_key_file, "dir/keys/k.key");
}

TEST(ParseProfile, AcceptsAProxyPasswordButNeverEchoesItInErrors) {
  auto ok = parse_profile("name = \"p\"\n[proxy]\nurl = \"http://alice:s3cr3t@proxy.test:3128\"\n",
                          "p.toml");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->proxy.url, "http://alice:s3cr3t@proxy.test:3128");

  for (const char* url : {"ftp://alice:s3cr3t@proxy.test", "http://alice:s3cr3t@",
                          "http://alice:s3cr3t@bad host:1", "http://alice:s3cr3t%zz@proxy.test"}) {
    auto bad =
        parse_profile(std::string("name = \"p\"\n[proxy]\nurl = \"") + url + "\"\n", "p.toml");
    ASSERT_FALSE(bad) << url;
    EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos) << bad.error().message;
    EXPECT_EQ(bad.error().message.rfind("p.toml:3:7: 'proxy.url': ", 0), 0u) << bad.error().message;
  }
}

TEST(ParseProfile, AcceptsAnEmptyEndpointList) {
  auto p = parse_profile("name = \"bgp-only\"\nendpoint = []\n[bgp]\ngeography = \"Europe\"\n",
                         "b.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->endpoints.empty());
}

TEST(LoadProfile, RejectsAnUnknownNameListingTheEmbeddedOnes) {
  auto p = load_profile("pubic");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(p.error().message,
            "unknown profile 'pubic': expected one of china, local, public, usgov, or a path to "
            "a .toml file");
}

TEST(LoadProfile, ReportsAMissingFileAsNotFound) {
  auto p = load_profile("/nonexistent/gwprobe/profile.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(p.error().message,
            "cannot read profile '/nonexistent/gwprobe/profile.toml': No such file or directory");
}

TEST(LoadProfile, ReportsPositionsWithThePathAsGiven) {
  auto p =
      load_profile(std::string(GWPROBE_SOURCE_DIR) + "/rules/testdata/invalid-bad-port-zero.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(p.error().message.rfind(
                std::string(GWPROBE_SOURCE_DIR) + "/rules/testdata/invalid-bad-port-zero.toml:", 0),
            0u)
      << p.error().message;
}

TEST(LoadProfile, StopsReadingAfterOneMebibyte) {
  auto p = load_profile("/dev/zero");  // endless input: an error, not a hang or a crash
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(p.error().message, "profile '/dev/zero' is larger than 1 MiB: expected a TOML profile");
}

TEST(Requirement, DependsOnHttpsModeOnlyForTcpMode) {
  Endpoint e;
  e.requirement = Requirement::required;
  EXPECT_TRUE(e.is_required(true));
  EXPECT_TRUE(e.is_required(false));
  e.requirement = Requirement::optional;
  EXPECT_FALSE(e.is_required(true));
  EXPECT_FALSE(e.is_required(false));
  e.requirement = Requirement::tcp_mode;
  EXPECT_FALSE(e.is_required(true));
  EXPECT_TRUE(e.is_required(false));
  EXPECT_EQ(to_string(Requirement::tcp_mode), "tcp-mode");
}

// ---- ${VAR} expansion ----

struct Expansion {
  const char* text;
  const char* expected;  ///< nullptr: an error whose message is `error`
  const char* error;
};

class ExpandVariables : public ::testing::TestWithParam<Expansion> {};

TEST_P(ExpandVariables, FollowsShellDefaultSemantics) {
  const std::map<std::string, std::string, std::less<>> env = {{"HOME_DIR", "/home/gw"},
                                                               {"EMPTY", ""}};
  const EnvLookup lookup = [&](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto& c = GetParam();
  auto out = expand_variables(c.text, lookup);
  if (c.expected) {
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(*out, c.expected);
  } else {
    ASSERT_FALSE(out) << *out;
    EXPECT_EQ(out.error().message, c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpandVariables,
    ::testing::Values(
        Expansion{"plain/path", "plain/path", nullptr},
        Expansion{"${HOME_DIR}/ca.pem", "/home/gw/ca.pem", nullptr},
        Expansion{"${HOME_DIR:-/x}/ca.pem", "/home/gw/ca.pem", nullptr},
        Expansion{"${MISSING:-/tmp/gwprobe-local}/ca.pem", "/tmp/gwprobe-local/ca.pem", nullptr},
        Expansion{"${EMPTY:-fallback}", "fallback", nullptr},
        Expansion{"${MISSING:-}x", "x", nullptr},
        Expansion{"a$b/$hc/${HOME_DIR}$", "a$b/$hc//home/gw$", nullptr},
        Expansion{"${HOME_DIR}${HOME_DIR}", "/home/gw/home/gw", nullptr},
        Expansion{"${MISSING}/ca.pem", nullptr,
                  "environment variable 'MISSING' is not set (or empty) and has no default "
                  "(write ${MISSING:-default})"},
        Expansion{"${EMPTY}", nullptr,
                  "environment variable 'EMPTY' is not set (or empty) and has no default "
                  "(write ${EMPTY:-default})"},
        Expansion{"${HOME_DIR/ca.pem", nullptr,
                  "unterminated '${' in '${HOME_DIR/ca.pem': expected ${NAME}"},
        Expansion{"${1X}", nullptr,
                  "bad variable name '1X' in '${1X}': expected letters, digits and '_'"},
        Expansion{"${}", nullptr,
                  "bad variable name '' in '${}': expected letters, digits and '_'"}));

// ---- --probe-host ----

Profile relay_profile() {
  auto p = load_profile("public");
  EXPECT_TRUE(p);
  return *p;
}

TEST(OverrideProbeHost, ByDocumentedHostChangesEveryEndpointWithThatHost) {
  auto profile = relay_profile();
  ASSERT_TRUE(override_probe_host(profile, "*.ServiceBus.windows.net=MyGw.servicebus.windows.net"));
  int changed = 0;
  for (const auto& e : profile.endpoints) {
    if (e.host == "*.servicebus.windows.net") {
      EXPECT_EQ(e.probe_host, "mygw.servicebus.windows.net");
      EXPECT_FALSE(e.probe_host_is_example);
      ++changed;
    } else if (e.host == "*.powerbi.com") {
      EXPECT_EQ(e.probe_host, "app.powerbi.com");
    }
  }
  EXPECT_EQ(changed, 3);
}

TEST(OverrideProbeHost, ByEndpointNameChangesOnlyThatEndpoint) {
  auto profile = relay_profile();
  ASSERT_TRUE(override_probe_host(profile, "Azure Relay (TCP mode)=10.9.8.7"));
  for (const auto& e : profile.endpoints) {
    if (e.name == "Azure Relay (TCP mode)") {
      EXPECT_EQ(e.probe_host, "10.9.8.7");
    } else {
      EXPECT_NE(e.probe_host, "10.9.8.7") << e.name;
    }
  }
}

struct BadOverride {
  const char* assignment;
  const char* message;
};

class OverrideProbeHostRejects : public ::testing::TestWithParam<BadOverride> {};

TEST_P(OverrideProbeHostRejects, WithOneLine) {
  Profile profile;
  profile.name = "p";
  Endpoint relay;
  relay.name = "Relay";
  relay.host = "*.servicebus.windows.net";
  relay.probe_host = "example.servicebus.windows.net";
  Endpoint login;
  login.name = "Login";
  login.host = "login.microsoftonline.com";
  login.probe_host = login.host;
  profile.endpoints = {relay, login};
  auto r = override_probe_host(profile, GetParam().assignment);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(r.error().message, GetParam().message);
  EXPECT_EQ(profile.endpoints[0].probe_host, "example.servicebus.windows.net");
}

INSTANTIATE_TEST_SUITE_P(
    Table, OverrideProbeHostRejects,
    ::testing::Values(
        BadOverride{"mygw.servicebus.windows.net",
                    "bad --probe-host 'mygw.servicebus.windows.net': expected PATTERN=HOST, e.g. "
                    "'*.servicebus.windows.net=mygateway.servicebus.windows.net'"},
        BadOverride{"=x.test",
                    "bad --probe-host '=x.test': expected PATTERN=HOST, e.g. "
                    "'*.servicebus.windows.net=mygateway.servicebus.windows.net'"},
        BadOverride{"Relay=",
                    "bad --probe-host 'Relay=': expected PATTERN=HOST, e.g. "
                    "'*.servicebus.windows.net=mygateway.servicebus.windows.net'"},
        BadOverride{"Relay=*.x.test",
                    "bad --probe-host 'Relay=*.x.test': '*.x.test' is neither a host name nor an "
                    "IP address"},
        BadOverride{"*.servicebus.usgovcloudapi.net=a.test",
                    "bad --probe-host '*.servicebus.usgovcloudapi.net=a.test': no endpoint of "
                    "profile 'p' has the host or name '*.servicebus.usgovcloudapi.net'; its "
                    "wildcard hosts are: *.servicebus.windows.net"}));

TEST(ParseProfile, ReadsTheRelaySendRuleDataSourceAndSealedCredentialKeys) {
  auto p = parse_profile(R"(name = "e2e"
[relay]
url = "wss://relay.test/$hc/db"
sas_key_name = "gateway"
sas_key_file = "keys/gateway.key"
send_key_name = "client"
send_key_file = "keys/client.key"
datasource = "sales"
gateway_public_key = "keys/gateway.pub"
credentials_file = "keys/db-password"
query = "SELECT 1"
)",
                         "dir/e2e.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->relay.send_rule(), "client");
  EXPECT_EQ(p->relay.send_rule_key_file(), "dir/keys/client.key");
  EXPECT_EQ(p->relay.datasource, "sales");
  EXPECT_EQ(p->relay.gateway_public_key, "dir/keys/gateway.pub");
  EXPECT_EQ(p->relay.credentials_file, "dir/keys/db-password");
}

TEST(ParseProfile, TheSendRuleDefaultsToTheSasKey) {
  auto p = parse_profile(
      "name = \"d\"\n[relay]\nsas_key_name = \"both\"\nsas_key_file = \"k.key\"\n", "d.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->relay.send_rule(), "both");
  EXPECT_EQ(p->relay.send_rule_key_file(), "k.key");
}

}  // namespace
}  // namespace gwprobe::rules
