// Proxy resolution as tables: precedence, NO_PROXY forms, credentials and their sources, and
// rejections (never echoing a password).
#include "probes/proxy/proxy_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace gwprobe::probes::proxy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ProxyPlan resolved(const ProxySources& sources) {
  auto plan = resolve_proxy_plan(sources);
  EXPECT_TRUE(plan.has_value()) << (plan ? "" : plan.error().message);
  return plan ? std::move(*plan) : ProxyPlan{};
}

struct NoProxyCase {
  const char* no_proxy;
  const char* host;
  std::uint16_t port;
  bool bypass;
};

class NoProxyTable : public ::testing::TestWithParam<NoProxyCase> {};

TEST_P(NoProxyTable, DecidesWhetherTheTargetBypassesTheProxy) {
  const auto& c = GetParam();
  const auto list = parse_no_proxy(c.no_proxy);
  EXPECT_EQ(match_no_proxy(list, core::Target{c.host, c.port}) != nullptr, c.bypass)
      << "NO_PROXY=" << c.no_proxy << " host=" << c.host << ":" << c.port;
}

INSTANTIATE_TEST_SUITE_P(
    Forms, NoProxyTable,
    ::testing::Values(
        // suffixes with and without a leading dot (and "*."), as curl reads them
        NoProxyCase{".corp", "relay.corp", 443, true}, NoProxyCase{".corp", "corp", 443, true},
        NoProxyCase{"corp", "a.b.corp", 443, true}, NoProxyCase{"*.corp", "x.corp", 443, true},
        NoProxyCase{".corp", "notcorp", 443, false},
        NoProxyCase{".corp", "corp.example", 443, false},
        // exact hosts, case and a trailing dot do not matter
        NoProxyCase{"relay.lab.test", "RELAY.lab.test.", 443, true},
        NoProxyCase{"relay.lab.test", "login.lab.test", 443, false},
        // everything
        NoProxyCase{"*", "anything.example", 9350, true},
        // lists: commas and spaces
        NoProxyCase{"localhost, .internal ,10.0.0.0/8", "db.internal", 5432, true},
        NoProxyCase{"localhost .internal", "localhost", 80, true},
        // IPv4 and IPv6 addresses and CIDRs (no DNS: only targets given as IPs match)
        NoProxyCase{"10.0.0.0/8", "10.77.3.10", 443, true},
        NoProxyCase{"10.0.0.0/8", "11.0.0.1", 443, false},
        NoProxyCase{"10.0.0.0/8", "relay.lab.test", 443, false},
        NoProxyCase{"192.168.1.7", "192.168.1.7", 443, true},
        NoProxyCase{"192.168.1.7", "192.168.1.8", 443, false},
        NoProxyCase{"fd00::/8", "fd12::1", 443, true},
        NoProxyCase{"fd00::/8", "fe80::1", 443, false}, NoProxyCase{"::1", "::1", 443, true},
        NoProxyCase{"[::1]:443", "::1", 443, true}, NoProxyCase{"[::1]:443", "::1", 80, false},
        NoProxyCase{"0.0.0.0/0", "203.0.113.9", 443, true},
        // ports
        NoProxyCase{"relay.corp:443", "relay.corp", 443, true},
        NoProxyCase{"relay.corp:443", "relay.corp", 9350, false},
        NoProxyCase{".corp:9350", "relay.corp", 9350, true},
        NoProxyCase{"10.0.0.0/8:443", "10.1.1.1", 443, true},
        NoProxyCase{"10.0.0.0/8:443", "10.1.1.1", 80, false},
        // nothing
        NoProxyCase{"", "relay.corp", 443, false}));

TEST(NoProxy, MalformedEntriesAreIgnoredAndListedWithWhy) {
  const auto list = parse_no_proxy("good.example, 10.0.0.0/33, bad_host!, host:99999, [::1");
  ASSERT_EQ(list.entries.size(), 1u);
  EXPECT_EQ(list.entries[0].domain, "good.example");
  ASSERT_EQ(list.ignored.size(), 4u);
  EXPECT_THAT(list.ignored[0], HasSubstr("10.0.0.0/33: bad prefix length (0-32)"));
  EXPECT_THAT(list.ignored[1], HasSubstr("bad_host!"));
  EXPECT_THAT(list.ignored[2], HasSubstr("host:99999: bad port"));
  EXPECT_THAT(list.ignored[3], HasSubstr("unterminated"));
}

TEST(ProxyPlan, CommandLineBeatsProfileBeatsEnvironment) {
  ProxySources s;
  s.env = env_of({{"HTTPS_PROXY", "http://env-proxy:3128"}});
  EXPECT_EQ(resolved(s).proxy->url.host, "env-proxy");
  EXPECT_EQ(resolved(s).proxy->source, "from HTTPS_PROXY");
  s.profile_url = "http://profile-proxy:8080";
  EXPECT_EQ(resolved(s).proxy->url.host, "profile-proxy");
  EXPECT_EQ(resolved(s).proxy->source, "from the profile ([proxy] url)");
  s.cli_url = "cli-proxy:3128";  // scheme-less means http://, as curl reads it
  const auto plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.host, "cli-proxy");
  EXPECT_EQ(plan.proxy->url.scheme, "http");
  EXPECT_EQ(plan.proxy->url.port, 3128);
  EXPECT_EQ(plan.proxy->source, "from --proxy");
}

TEST(ProxyPlan, EnvironmentVariablesAreReadInDocumentedOrder) {
  ProxySources s;
  s.env = env_of({{"all_proxy", "http://d:1"}});
  EXPECT_EQ(resolved(s).proxy->source, "from all_proxy");
  s.env = env_of({{"all_proxy", "http://d:1"}, {"ALL_PROXY", "http://c:1"}});
  EXPECT_EQ(resolved(s).proxy->source, "from ALL_PROXY");
  s.env = env_of({{"ALL_PROXY", "http://c:1"}, {"https_proxy", "http://b:1"}});
  EXPECT_EQ(resolved(s).proxy->source, "from https_proxy");
  s.env = env_of({{"https_proxy", "http://b:1"}, {"HTTPS_PROXY", "http://a:1"}});
  EXPECT_EQ(resolved(s).proxy->source, "from HTTPS_PROXY");
  // HTTP_PROXY is for plain HTTP; the gateway's traffic is HTTPS.
  s.env = env_of({{"HTTP_PROXY", "http://x:1"}, {"http_proxy", "http://y:1"}});
  EXPECT_FALSE(resolved(s).proxy.has_value());
  // An empty variable counts as unset.
  s.env = env_of({{"HTTPS_PROXY", ""}, {"https_proxy", "http://b:1"}});
  EXPECT_EQ(resolved(s).proxy->source, "from https_proxy");
}

TEST(ProxyPlan, AShadowedVariableIsNamedInAWarningWithoutItsValue) {
  ProxySources s;
  s.env = env_of({{"HTTPS_PROXY", "http://a:1"}, {"https_proxy", "http://bob:hunter2@b:1"}});
  const auto plan = resolved(s);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_THAT(plan.warnings[0], HasSubstr("https_proxy is also set"));
  EXPECT_THAT(plan.warnings[0], Not(HasSubstr("hunter2")));
}

TEST(ProxyPlan, ProxyNoneGoesDirectWhateverTheProfileAndEnvironmentSay) {
  ProxySources s;
  s.env = env_of({{"HTTPS_PROXY", "http://a:1"}});
  s.profile_url = "http://p:1";
  s.cli_url = "none";
  const auto plan = resolved(s);
  EXPECT_FALSE(plan.proxy.has_value());
  EXPECT_EQ(plan.direct_reason, "--proxy none");
  EXPECT_EQ(proxy_for(plan, core::Target{"relay.example", 443}).reason, "--proxy none");
}

TEST(ProxyPlan, NoProxyComesFromNoProxyOrNoProxyLowerCaseAndNamesTheMatch) {
  ProxySources s;
  s.cli_url = "http://proxy:3128";
  s.env = env_of({{"no_proxy", ".lab.test"}});
  auto plan = resolved(s);
  auto d = proxy_for(plan, core::Target{"relay.lab.test", 443});
  EXPECT_FALSE(d.proxy.has_value());
  EXPECT_EQ(d.reason, "no_proxy matched .lab.test");
  d = proxy_for(plan, core::Target{"relay.servicebus.windows.net", 443});
  ASSERT_TRUE(d.proxy.has_value());
  EXPECT_EQ(d.reason, "from --proxy");

  s.env = env_of({{"NO_PROXY", "relay.lab.test"}, {"no_proxy", "*"}});
  plan = resolved(s);
  EXPECT_EQ(proxy_for(plan, core::Target{"relay.lab.test", 443}).reason,
            "NO_PROXY matched relay.lab.test");
  EXPECT_TRUE(proxy_for(plan, core::Target{"login.lab.test", 443}).proxy.has_value());
}

TEST(ProxyPlan, CredentialsFromTheUrl) {
  ProxySources s;
  s.cli_url = "http://alice:s%3Acret@proxy:3128";
  const auto plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.user, "alice");
  EXPECT_EQ(plan.proxy->url.password.reveal(), "s:cret");
  EXPECT_EQ(plan.credentials_source, "the URL");
  EXPECT_EQ(plan.describe(),
            "http://alice:***@proxy:3128 (from --proxy; auth any; credentials from the URL)");
}

TEST(ProxyPlan, CredentialsFileOverridesTheUrlAndCommandLineOverridesBoth) {
  ProxySources s;
  s.cli_url = "http://url-user:url-pass@proxy:3128";
  s.profile_credentials = core::Secret("file-user:file:pass\nignored second line\n");
  auto plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.user, "file-user");
  EXPECT_EQ(plan.proxy->url.password.reveal(), "file:pass");
  EXPECT_EQ(plan.credentials_source, "[proxy] credentials_file");

  s.cli_user = core::Secret("cli-user");
  plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.user, "cli-user");
  EXPECT_EQ(plan.proxy->url.password.reveal(), "file:pass");
  EXPECT_EQ(plan.credentials_source, "--proxy-user (password from [proxy] credentials_file)");

  s.cli_user = core::Secret("CORP\\bob:pw1");
  plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.user, "CORP\\bob");
  EXPECT_EQ(plan.proxy->url.password.reveal(), "pw1");
  EXPECT_EQ(plan.credentials_source, "--proxy-user");

  s.cli_password_file = core::Secret("pw2\r\n");
  plan = resolved(s);
  EXPECT_EQ(plan.proxy->url.password.reveal(), "pw2");
  EXPECT_EQ(plan.credentials_source, "--proxy-user (password from --proxy-password-file)");
  EXPECT_THAT(plan.describe(), Not(HasSubstr("pw2")));
}

TEST(ProxyPlan, AuthMethodFromTheCommandLineElseTheProfile) {
  ProxySources s;
  s.cli_url = "http://proxy:3128";
  s.profile_auth = "ntlm";
  EXPECT_EQ(resolved(s).proxy->auth, ProxyAuth::ntlm);
  s.cli_auth = "Negotiate";
  EXPECT_EQ(resolved(s).proxy->auth, ProxyAuth::negotiate);
  s.cli_auth = "basic";
  EXPECT_EQ(resolved(s).proxy->auth, ProxyAuth::basic);
}

void expect_rejected(const ProxySources& sources, const char* message) {
  const auto plan = resolve_proxy_plan(sources);
  ASSERT_FALSE(plan.has_value()) << message;
  EXPECT_EQ(plan.error().kind, core::FailureKind::invalid_input);
  EXPECT_THAT(plan.error().message, HasSubstr(message));
  EXPECT_THAT(plan.error().describe(), Not(HasSubstr("hunter2")));
  EXPECT_EQ(plan.error().message.find('\n'), std::string::npos);
}

TEST(ProxyPlan, RejectsBadInputWithOneLineThatNeverQuotesThePassword) {
  ProxySources scheme;
  scheme.cli_url = "ftp://alice:hunter2@proxy:21";
  expect_rejected(scheme, "--proxy: unsupported proxy scheme 'ftp'");

  ProxySources no_host;
  no_host.env = env_of({{"HTTPS_PROXY", "http://alice:hunter2@:3128"}});
  expect_rejected(no_host, "HTTPS_PROXY: bad URL");

  ProxySources bad_port;
  bad_port.profile_url = "http://proxy:99999";
  expect_rejected(bad_port, "[proxy] url: bad URL");

  ProxySources auth;
  auth.cli_url = "http://proxy:3128";
  auth.cli_auth = "kerberos";
  expect_rejected(auth, "--proxy-auth: unknown proxy auth 'kerberos'");

  ProxySources file;
  file.cli_url = "http://proxy:3128";
  file.profile_credentials = core::Secret("hunter2");
  expect_rejected(file, "[proxy] credentials_file: expected 'user:password'");

  ProxySources user;
  user.cli_url = "http://proxy:3128";
  user.cli_user = core::Secret(":hunter2");
  expect_rejected(user, "--proxy-user: expected USER[:PASSWORD]");

  ProxySources password_only;
  password_only.cli_url = "http://proxy:3128";
  password_only.cli_password_file = core::Secret("hunter2");
  expect_rejected(password_only, "--proxy-password-file: no user name");
}

TEST(ProxyPlan, WithoutAnyProxyEveryTargetIsDirect) {
  const auto plan = resolved(ProxySources{});
  EXPECT_FALSE(plan.proxy.has_value());
  EXPECT_EQ(plan.describe(), "none (no proxy configured)");
  const auto d = proxy_for(plan, core::Target{"relay.example", 443});
  EXPECT_FALSE(d.proxy.has_value());
  EXPECT_EQ(d.reason, "no proxy configured");
}

TEST(ProxyPlan, IgnoredNoProxyEntriesBecomeWarnings) {
  ProxySources s;
  s.cli_url = "http://proxy:3128";
  s.env = env_of({{"NO_PROXY", "10.0.0.0/99,.ok"}});
  const auto plan = resolved(s);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_THAT(plan.warnings[0], HasSubstr("NO_PROXY: ignored entry 10.0.0.0/99"));
}

TEST(ProxyAuthNames, RoundTrip) {
  for (auto a : {ProxyAuth::any, ProxyAuth::basic, ProxyAuth::ntlm, ProxyAuth::negotiate}) {
    EXPECT_EQ(parse_proxy_auth(to_string(a)).value(), a);
  }
  EXPECT_FALSE(parse_proxy_auth("digest").has_value());
}

}  // namespace
}  // namespace gwprobe::probes::proxy
