#include "core/target.hpp"

#include <gtest/gtest.h>

#include "core/duration.hpp"
#include "core/url.hpp"

namespace gwprobe::core {
namespace {
using namespace std::chrono_literals;

TEST(ParseTarget, AcceptsHostPortIpv4AndBracketedIpv6) {
  auto a = parse_target("Login.MicrosoftOnline.com:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "login.microsoftonline.com");
  EXPECT_EQ(a->port, 443);
  auto b = parse_target("[2001:db8::1]:9350");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "2001:db8::1");
  EXPECT_EQ(b->to_string(), "[2001:db8::1]:9350");
  auto c = parse_target("::1", 443);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->port, 443);
  auto d = parse_target("example.test", std::nullopt, false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->to_string(), "example.test");
}

struct BadTarget {
  const char* text;
  const char* expected_fragment;
};

class ParseTargetRejects : public ::testing::TestWithParam<BadTarget> {};

TEST_P(ParseTargetRejects, WithAOneLineReason) {
  auto r = parse_target(GetParam().text);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, FailureKind::invalid_input);
  EXPECT_NE(r.error().message.find(GetParam().expected_fragment), std::string::npos)
      << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseTargetRejects,
    ::testing::Values(BadTarget{"", "empty target"}, BadTarget{"host", "expected HOST:PORT"},
                      BadTarget{"host:0", "1 to 65535"}, BadTarget{"host:65536", "1 to 65535"},
                      BadTarget{"host:http", "1 to 65535"},
                      BadTarget{"bad host:443", "neither a host name"},
                      BadTarget{"-lead.example:443", "neither a host name"},
                      BadTarget{"*.servicebus.windows.net:443", "neither a host name"},
                      BadTarget{"[2001:db8::1:443", "missing ']'"},
                      BadTarget{"[10.0.0.1]:443", "only for IPv6"}));

TEST(IsIpLiteral, KnowsBothFamilies) {
  EXPECT_TRUE(is_ip_literal("10.1.2.3"));
  EXPECT_TRUE(is_ip_literal("fe80::1"));
  EXPECT_FALSE(is_ip_literal("10.1.2"));
  EXPECT_FALSE(is_ip_literal("example.com"));
}

TEST(ParseDuration, AcceptsUnitsCompoundsAndBareSeconds) {
  EXPECT_EQ(*parse_duration("5s"), 5000ms);
  EXPECT_EQ(*parse_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_duration("2h"), 2h);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration("300"), 300s);
}

TEST(ParseDuration, RejectsGarbageWithExamples) {
  for (const char* bad : {"", "s", "5x", "-1s", "5 s", "1s5", "99999h", "."}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("examples"), std::string::npos);
  }
}

TEST(FormatDuration, PicksAReadableUnit) {
  EXPECT_EQ(format_duration(850us), "850 µs");
  EXPECT_EQ(format_duration(2300us), "2.3 ms");
  EXPECT_EQ(format_duration(45ms), "45 ms");
  EXPECT_EQ(format_duration(2300ms), "2.3 s");
  EXPECT_EQ(format_duration(245s), "4 m 05 s");
  EXPECT_DOUBLE_EQ(to_ms(1234567ns), 1.235);
}

TEST(ParseUrl, SplitsAProxyUrlAndNeverShowsThePassword) {
  auto u = parse_url("http://alice:s3cr%40t@Proxy.Corp:3128");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "proxy.corp");
  EXPECT_EQ(u->port, 3128);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password.reveal(), "s3cr@t");
  EXPECT_EQ(u->redacted(), "http://alice:***@proxy.corp:3128");
  EXPECT_EQ(u->origin(), "http://proxy.corp:3128");
}

TEST(ParseUrl, TakesDefaultsForSchemeAndPort) {
  auto p = parse_url("proxy.corp:8080", "http");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "http");
  EXPECT_EQ(p->port, 8080);
  auto w = parse_url("wss://relay.test/$hc/db1?sb-hc-action=listen");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->port, 443);
  EXPECT_FALSE(w->explicit_port);
  EXPECT_EQ(w->path, "/$hc/db1?sb-hc-action=listen");
  auto v6 = parse_url("https://[::1]:8443/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->explicit_port);
}

TEST(ParseUrl, ErrorsNeverEchoTheInput) {
  for (const char* bad :
       {"http://alice:hunter2@", "alice:hunter2@proxy", "http://alice:hunter2@x:99999",
        "gopher://alice:hunter2@host", "http://alice:hunter2%zz@host"}) {
    auto r = parse_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  }
}

TEST(ParseUrl, ABadPortSaysWhichPortAndWhatWasExpected) {
  auto r = parse_url("http://alice:hunter2@proxy:128x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "bad URL: bad port '128x': expected a number from 1 to 65535");
}

TEST(PercentCoding, RoundTripsAndKeepsHexCase) {
  EXPECT_EQ(percent_encode("http://a/b", true), "http%3A%2F%2Fa%2Fb");
  EXPECT_EQ(percent_encode("http://a/b", false), "http%3a%2f%2fa%2fb");
  EXPECT_EQ(*percent_decode("http%3a%2F%2Fa"), "http://a");
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%zz"));
}

}  // namespace
}  // namespace gwprobe::core
