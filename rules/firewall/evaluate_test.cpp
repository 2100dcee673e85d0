// Verdicts for rulesets exported from a real nftables and iptables-nft (the lab test compares
// the same rulesets with real connections).
#include "rules/firewall/evaluate.hpp"

#include <gtest/gtest.h>

#include "rules/firewall/testdata_path.hpp"

namespace gwprobe::rules::firewall {
namespace {

using testing::ruleset;

struct Case {
  const char* label;
  const char* address;
  std::uint16_t port;
  const char* oif;  // "" = unknown
  VerdictKind kind;
  const char* reject_type;  // for reject
  const char* decided_by;   // location of the deciding rule (first), or the unknown reason part
  const char* tcp;          // expected_tcp_outcome
};

std::string describe(const Case& c) {
  return std::string(c.label) + " " + c.address + ":" + std::to_string(c.port);
}

void expect_case(const Ruleset& rs, const Case& c, Path path, const std::string& iif) {
  PacketQuery q;
  q.destination = *IpAddress::parse(c.address);
  q.port = c.port;
  q.path = path;
  q.oif = c.oif;
  q.iif = iif;
  const Verdict v = evaluate_packet(rs, q);
  EXPECT_EQ(v.kind, c.kind) << describe(c) << ": " << v.describe();
  if (c.kind == VerdictKind::reject) {
    EXPECT_EQ(v.reject_type, c.reject_type) << describe(c);
  }
  if (c.kind == VerdictKind::unknown) {
    EXPECT_NE(v.unknown_because.find(c.decided_by), std::string::npos)
        << describe(c) << ": " << v.unknown_because;
  } else {
    ASSERT_FALSE(v.decided_by.empty()) << describe(c);
    EXPECT_EQ(v.decided_by.front().location, c.decided_by) << describe(c) << ": " << v.describe();
  }
  EXPECT_EQ(expected_tcp_outcome(v), c.tcp) << describe(c);
}

class NftGatewayOutput : public ::testing::TestWithParam<Case> {};

TEST_P(NftGatewayOutput, GivesTheKernelsVerdictAndTheDecidingRule) {
  static const Ruleset rs = ruleset("gateway-output.nft.json");
  ASSERT_FALSE(rs.chains.empty());
  expect_case(rs, GetParam(), Path::output, "");
}

constexpr auto accept = VerdictKind::accept;
constexpr auto drop = VerdictKind::drop;
constexpr auto reject = VerdictKind::reject;
constexpr auto unknown = VerdictKind::unknown;

INSTANTIATE_TEST_SUITE_P(
    Table, NftGatewayOutput,
    ::testing::Values(
        Case{"relay prefix, 443", "198.51.100.5", 443, "", accept, "",
             "inet gwfilter output handle 11", "OK"},
        Case{"relay range, amqps", "203.0.113.25", 5671, "eth0", accept, "",
             "inet gwfilter output handle 11", "OK"},
        Case{"relay single address, 9354", "203.0.113.10", 9354, "", accept, "",
             "inet gwfilter output handle 11", "OK"},
        Case{"rejected by the second table", "198.51.100.66", 443, "", reject,
             "icmp admin-prohibited", "ip gwextra output handle 2", "TCP_UNREACHABLE"},
        Case{"named port set rejects before the relay rule", "198.51.100.5", 9352, "", reject,
             "tcp reset", "inet gwfilter output handle 9", "TCP_REFUSED"},
        Case{"outside the relay set: policy drop", "203.0.113.30", 443, "", drop, "",
             "policy of inet gwfilter output", "TCP_FILTERED"},
        Case{"jump to corp accepts 443", "192.0.2.10", 443, "", accept, "",
             "inet gwfilter corp handle 17", "OK"},
        Case{"corp drops 8080", "192.0.2.10", 8080, "", drop, "", "inet gwfilter corp handle 18",
             "TCP_FILTERED"},
        Case{"corp returns, then policy", "192.0.2.10", 9000, "", drop, "",
             "policy of inet gwfilter output", "TCP_FILTERED"},
        Case{"ct state new matches a new connection", "10.1.2.3", 1433, "", accept, "",
             "inet gwfilter output handle 16", "OK"},
        Case{"socket owner is unknown", "10.1.2.3", 22, "eth0", unknown, "", "meta skuid", ""},
        Case{"output interface unknown", "10.1.2.3", 80, "", unknown, "",
             "the output interface is not known (give --oif)", ""},
        Case{"output interface given", "10.1.2.3", 80, "eth0", accept, "",
             "inet gwfilter output handle 15", "OK"},
        Case{"another output interface", "10.1.2.3", 80, "wlan0", drop, "",
             "policy of inet gwfilter output", "TCP_FILTERED"},
        Case{"IPv6 relay prefix", "2001:db8:100::7", 443, "", accept, "",
             "inet gwfilter output handle 12", "OK"},
        Case{"IPv6 elsewhere", "2001:db8:200::7", 443, "", drop, "",
             "policy of inet gwfilter output", "TCP_FILTERED"},
        Case{"loopback leaves through lo", "127.0.0.1", 9999, "", accept, "",
             "inet gwfilter output handle 7", "OK"}));

class NftRouterForward : public ::testing::TestWithParam<Case> {};

TEST_P(NftRouterForward, GivesTheKernelsVerdictOnTheForwardPath) {
  static const Ruleset rs = ruleset("router-forward.nft.json");
  ASSERT_FALSE(rs.chains.empty());
  expect_case(rs, GetParam(), Path::forward, "bgpfwr0");
}

INSTANTIATE_TEST_SUITE_P(
    Table, NftRouterForward,
    ::testing::Values(Case{"443 accepted", "10.240.2.2", 443, "bgpfwr1", accept, "",
                           "inet gwrouter egress handle 9", "OK"},
                      Case{"port range", "10.240.2.2", 5671, "bgpfwr1", accept, "",
                           "inet gwrouter egress handle 10", "OK"},
                      Case{"accepted by one table, rejected by the next", "10.240.2.2", 5672,
                           "bgpfwr1", reject, "icmp host-unreachable",
                           "ip gwaudit forward handle 2", "TCP_UNREACHABLE"},
                      Case{"drop", "10.240.2.2", 9350, "bgpfwr1", drop, "",
                           "inet gwrouter egress handle 11", "TCP_FILTERED"},
                      Case{"tcp reset", "10.240.2.2", 9351, "bgpfwr1", reject, "tcp reset",
                           "inet gwrouter egress handle 12", "TCP_REFUSED"},
                      Case{"icmpx admin-prohibited", "10.240.2.2", 9352, "bgpfwr1", reject,
                           "icmpx admin-prohibited", "inet gwrouter egress handle 13",
                           "TCP_UNREACHABLE"},
                      Case{"verdict map drop", "10.240.2.2", 9353, "bgpfwr1", drop, "",
                           "inet gwrouter egress handle 15", "TCP_FILTERED"},
                      Case{"verdict map accept", "10.240.2.2", 9354, "bgpfwr1", accept, "",
                           "inet gwrouter egress handle 15", "OK"},
                      Case{"verdict map jump, accepted there", "10.240.2.2", 1433, "bgpfwr1",
                           accept, "", "inet gwrouter tds handle 17", "OK"},
                      Case{"verdict map jump, falls back to policy", "10.240.2.3", 1433, "bgpfwr1",
                           drop, "", "policy of inet gwrouter forward", "TCP_FILTERED"},
                      Case{"goto then return ends the calling chain", "10.240.2.2", 80, "bgpfwr1",
                           drop, "", "policy of inet gwrouter forward", "TCP_FILTERED"},
                      Case{"named interval set", "10.240.3.77", 443, "bgpfwr1", drop, "",
                           "inet gwrouter egress handle 8", "TCP_FILTERED"},
                      Case{"not from the gateway's side: policy", "10.240.2.2", 443, "bgpfwr9",
                           drop, "", "policy of inet gwrouter forward", "TCP_FILTERED"},
                      Case{"output interface unknown", "10.240.2.2", 443, "", unknown, "",
                           "the output interface is not known", ""}));

class IptablesRouterForward : public ::testing::TestWithParam<Case> {};

TEST_P(IptablesRouterForward, GivesTheSameVerdictsFromIptablesSave) {
  static const Ruleset rs = ruleset("router-forward.iptables-save");
  ASSERT_FALSE(rs.chains.empty());
  expect_case(rs, GetParam(), Path::forward, "bgpfwr0");
}

INSTANTIATE_TEST_SUITE_P(
    Table, IptablesRouterForward,
    ::testing::Values(
        Case{"443", "10.240.2.2", 443, "bgpfwr1", accept, "", "line 11", "OK"},
        Case{"multiport range", "10.240.2.2", 5672, "bgpfwr1", accept, "", "line 12", "OK"},
        Case{"drop", "10.240.2.2", 9350, "bgpfwr1", drop, "", "line 13", "TCP_FILTERED"},
        Case{"tcp reset", "10.240.2.2", 9351, "bgpfwr1", reject, "tcp reset", "line 14",
             "TCP_REFUSED"},
        Case{"port unreachable", "10.240.2.2", 9352, "bgpfwr1", reject, "icmp port-unreachable",
             "line 15", "TCP_REFUSED"},
        Case{"host prohibited", "10.240.2.2", 9353, "bgpfwr1", reject, "icmp host-prohibited",
             "line 16", "TCP_UNREACHABLE"},
        Case{"goto TAIL accepts", "10.240.2.2", 9354, "bgpfwr1", accept, "", "line 19", "OK"},
        Case{"goto TAIL returns past EGRESS to the policy", "10.240.2.2", 80, "bgpfwr1", drop, "",
             "policy of iptables filter FORWARD (line 4)", "TCP_FILTERED"},
        Case{"negated port skips the goto", "10.240.2.2", 1433, "bgpfwr1", accept, "", "line 18",
             "OK"},
        Case{"negated port, other address", "10.240.2.3", 1433, "bgpfwr1", drop, "",
             "policy of iptables filter FORWARD (line 4)", "TCP_FILTERED"},
        Case{"blocked address", "10.240.2.99", 443, "bgpfwr1", drop, "", "line 10",
             "TCP_FILTERED"}));

class IptablesGatewayOutput : public ::testing::TestWithParam<Case> {};

TEST_P(IptablesGatewayOutput, EvaluatesTheOutputChainAndItsUserChain) {
  static const Ruleset rs = ruleset("gateway-output.iptables-save");
  ASSERT_FALSE(rs.chains.empty());
  expect_case(rs, GetParam(), Path::output, "");
}

INSTANTIATE_TEST_SUITE_P(
    Table, IptablesGatewayOutput,
    ::testing::Values(
        Case{"relay 443 returns from GW_RELAY then matches 443", "198.51.100.5", 443, "", accept,
             "", "line 12", "OK"},
        Case{"relay 9353 first hits the multiport reject", "198.51.100.5", 9353, "", reject,
             "tcp reset", "line 10", "TCP_REFUSED"},
        Case{"GW_RELAY accepts 9350", "198.51.100.5", 9350, "", accept, "", "line 17", "OK"},
        Case{"GW_RELAY drops 8443", "198.51.100.210", 8443, "", drop, "", "line 18",
             "TCP_FILTERED"},
        Case{"iprange reject", "198.51.100.210", 8444, "", reject, "icmp admin-prohibited",
             "line 19", "TCP_UNREACHABLE"},
        Case{"LOG does not decide; ACCEPT does", "10.9.9.9", 1433, "", accept, "", "line 15", "OK"},
        Case{"owner match is unknown", "10.9.9.9", 22, "", unknown, "", "meta skuid", ""},
        Case{"eth+ wildcard", "10.9.9.9", 80, "eth1", accept, "", "line 16", "OK"},
        Case{"wildcard does not match wlan0", "10.9.9.9", 80, "wlan0", drop, "",
             "policy of iptables filter OUTPUT (line 5)", "TCP_FILTERED"},
        Case{"IPv6 is not covered by iptables-save", "2001:db8::1", 443, "", unknown, "",
             "holds only iptables rules", ""}));

TEST(Evaluate, RepliesBlockedOnTheInputChainMakeTheConnectionFail) {
  bgp::SourceText source{"in.json", R"({"nftables":[
    {"chain":{"family":"inet","table":"t","name":"in","type":"filter","hook":"input","prio":0,
              "policy":"drop"}},
    {"rule":{"family":"inet","table":"t","chain":"in","handle":3,"expr":[
      {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}},
      {"accept":null}]}}]})"};
  auto rs = load_ruleset(source);
  ASSERT_TRUE(rs) << rs.error().message;
  PacketQuery q{*IpAddress::parse("192.0.2.1"), 443, Path::output, "eth0", "", std::nullopt, true};
  const Verdict v = evaluate_packet(*rs, q);
  EXPECT_EQ(v.kind, VerdictKind::drop) << v.describe();
  EXPECT_TRUE(v.on_reply_path);
  ASSERT_FALSE(v.decided_by.empty());
  EXPECT_EQ(v.decided_by.front().location, "policy of inet t in");
  q.check_replies = false;
  EXPECT_EQ(evaluate_packet(*rs, q).kind, VerdictKind::accept);
}

TEST(Evaluate, AnEstablishedRuleOnInputLetsTheRepliesIn) {
  bgp::SourceText source{"in.json", R"({"nftables":[
    {"chain":{"family":"inet","table":"t","name":"in","type":"filter","hook":"input","prio":0,
              "policy":"drop"}},
    {"rule":{"family":"inet","table":"t","chain":"in","handle":3,"expr":[
      {"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},
      {"accept":null}]}}]})"};
  auto rs = load_ruleset(source);
  ASSERT_TRUE(rs);
  PacketQuery q{*IpAddress::parse("192.0.2.1"), 443, Path::output, "", "", std::nullopt, true};
  const Verdict v = evaluate_packet(*rs, q);
  EXPECT_EQ(v.kind, VerdictKind::accept) << v.describe();
}

TEST(Evaluate, XtMatchesOfIptablesNftJsonAreUnknownNeverGuessed) {
  const Ruleset rs = ruleset("gateway-output.iptables-nft.json");
  ASSERT_FALSE(rs.chains.empty());
  PacketQuery q{
      *IpAddress::parse("203.0.113.9"), 8080, Path::output, "eth0", "", std::nullopt, true};
  const Verdict v = evaluate_packet(rs, q);
  EXPECT_EQ(v.kind, VerdictKind::unknown);
  EXPECT_NE(v.unknown_because.find("iptables extension 'conntrack'"), std::string::npos)
      << v.unknown_because;
}

TEST(Evaluate, AnUndecidableMatchThatDoesNotChangeTheVerdictIsNoted) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  // Port 80 to the corp network: the corp chain decides before the oifname rule is reached...
  // and the skuid rule only matters for port 22: 443 to corp is accepted whatever they say.
  PacketQuery q{*IpAddress::parse("192.0.2.10"), 443, Path::output, "", "", std::nullopt, true};
  const Verdict v = evaluate_packet(rs, q);
  EXPECT_EQ(v.kind, VerdictKind::accept);
}

TEST(Evaluate, NetdevChainsOnTheDevicesCrossedMakeTheVerdictUnknown) {
  bgp::SourceText source{"netdev.json", R"({"nftables":[
    {"chain":{"family":"netdev","table":"n","name":"e","type":"filter","hook":"egress",
              "prio":0,"dev":"eth9","policy":"accept"}}]})"};
  auto rs = load_ruleset(source);
  ASSERT_TRUE(rs) << rs.error().message;
  PacketQuery q{*IpAddress::parse("192.0.2.1"), 443, Path::output, "eth0", "", std::nullopt, true};
  EXPECT_EQ(evaluate_packet(*rs, q).kind, VerdictKind::accept);  // bound to another device
  q.oif = "eth9";
  const Verdict v = evaluate_packet(*rs, q);
  EXPECT_EQ(v.kind, VerdictKind::unknown);
  EXPECT_NE(v.unknown_because.find("netdev chain netdev n e"), std::string::npos)
      << v.unknown_because;
  q.oif = "";
  EXPECT_EQ(evaluate_packet(*rs, q).kind, VerdictKind::unknown);
}

TEST(Evaluate, SplitsARangeWhereTheRulesetsAddressesBeginAndEnd) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  auto range = parse_ip_range("198.51.100.0/23");
  ASSERT_TRUE(range);
  const auto pieces = split_by_ruleset(rs, *range);
  std::vector<std::string> texts;
  for (const auto& p : pieces) texts.push_back(p.to_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"198.51.100.0-198.51.100.65", "198.51.100.66",
                                             "198.51.100.67-198.51.100.255", "198.51.101.0/24"}));
}

}  // namespace
}  // namespace gwprobe::rules::firewall

namespace gwprobe::rules::firewall {
namespace {

// One output chain (policy drop) with the given rules, as nft JSON.
Ruleset output_chain(const std::string& rules_json, const std::string& extra = "") {
  const std::string text =
      R"({"nftables":[{"chain":{"family":"inet","table":"t","name":"out","type":"filter",)"
      R"("hook":"output","prio":0,"policy":"drop"}},{"chain":{"family":"inet","table":"t",)"
      R"("name":"a"}},{"chain":{"family":"inet","table":"t","name":"b"}})" +
      extra + rules_json + "]}";
  auto rs = load_ruleset(bgp::SourceText{"t.json", text});
  EXPECT_TRUE(rs) << rs.error().message;
  return rs ? *rs : Ruleset{};
}

std::string rule(const std::string& chain, const std::string& expr) {
  return R"(,{"rule":{"family":"inet","table":"t","chain":")" + chain + R"(","expr":)" + expr +
         "}}";
}

Verdict to(const Ruleset& rs, const char* address, std::uint16_t port) {
  PacketQuery q{*IpAddress::parse(address), port, Path::output, "eth0", "", std::nullopt, true};
  return evaluate_packet(rs, q);
}

struct Hostile {
  const char* label;
  std::string rules;
  VerdictKind kind;
  const char* because;  // part of unknown_because, or ""
};

class EvaluateHostileRulesets : public ::testing::TestWithParam<Hostile> {};

TEST_P(EvaluateHostileRulesets, GiveUnknownWithAReasonNeverACrashOrAGuess) {
  const auto& p = GetParam();
  const Verdict v = to(output_chain(p.rules), "192.0.2.1", 443);
  EXPECT_EQ(v.kind, p.kind) << p.label << ": " << v.describe();
  EXPECT_NE(v.unknown_because.find(p.because), std::string::npos)
      << p.label << ": " << v.unknown_because;
}

const std::string kTcp443 =
    R"({"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":443}})";

INSTANTIATE_TEST_SUITE_P(
    Table, EvaluateHostileRulesets,
    ::testing::Values(
        Hostile{"jump loop",
                rule("out", R"([{"jump":{"target":"a"}}])") +
                    rule("a", R"([{"jump":{"target":"b"}}])") +
                    rule("b", R"([{"jump":{"target":"a"}}])"),
                VerdictKind::unknown, "jumps nest deeper than 16"},
        Hostile{"jump to a missing chain", rule("out", R"([{"jump":{"target":"zz"}}])"),
                VerdictKind::unknown, "jumps to chain 'zz', which is not in the ruleset"},
        Hostile{"left side is a number",
                rule("out", R"([{"match":{"op":"==","left":5,"right":5}},{"accept":null}])"),
                VerdictKind::unknown, "expression 5"},
        Hostile{"unknown statement", rule("out", R"([{"fancy":{}},{"accept":null}])"),
                VerdictKind::unknown, "the 'fancy' statement"},
        Hostile{"missing named set",
                rule("out", R"([{"match":{"op":"==","left":{"payload":{"protocol":"ip",)"
                            R"("field":"daddr"}},"right":"@nope"}},{"accept":null}])"),
                VerdictKind::unknown, "set @nope is not in the ruleset"},
        Hostile{"unknown symbol",
                rule("out", R"([{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},)"
                            R"("right":"warp"}},{"accept":null}])"),
                VerdictKind::unknown, "cannot interpret the constant \"warp\""},
        Hostile{"dnat in the path", rule("out", R"([{"dnat":{"addr":"10.0.0.1"}}])"),
                VerdictKind::unknown, "dnat rewrites the destination"},
        Hostile{"queue", rule("out", R"([{"queue":{"num":1}}])"), VerdictKind::unknown,
                "queues the packet to a userspace program"},
        Hostile{"an undecidable match before a true one is explored both ways",
                rule("out", R"([{"match":{"op":"==","left":{"meta":{"key":"skuid"}},"right":0}},)" +
                                kTcp443.substr(0, kTcp443.size()) + R"(,{"drop":null}])") +
                    rule("out", R"([{"accept":null}])"),
                VerdictKind::unknown, "meta skuid"},
        Hostile{"concatenation against a set of pairs",
                rule("out", R"([{"match":{"op":"==","left":{"concat":[{"payload":{"protocol":)"
                            R"("ip","field":"daddr"}},{"payload":{"protocol":"tcp","field":)"
                            R"("dport"}}]},"right":{"set":[{"concat":["192.0.2.1",443]}]}}},)"
                            R"({"accept":null}])"),
                VerdictKind::accept, ""},
        Hostile{"ordered comparison on a port",
                rule("out", R"([{"match":{"op":"<","left":{"payload":{"protocol":"tcp",)"
                            R"("field":"dport"}},"right":1024}},{"accept":null}])"),
                VerdictKind::accept, ""},
        Hostile{"source port range covering every ephemeral port",
                rule("out", R"([{"match":{"op":"==","left":{"payload":{"protocol":"tcp",)"
                            R"("field":"sport"}},"right":{"range":[1024,65535]}}},)"
                            R"({"accept":null}])"),
                VerdictKind::accept, ""},
        Hostile{"source port range splitting the ephemeral ports",
                rule("out", R"([{"match":{"op":"==","left":{"payload":{"protocol":"tcp",)"
                            R"("field":"sport"}},"right":{"range":[40000,50000]}}},)"
                            R"({"accept":null}])"),
                VerdictKind::unknown, "the connection's ephemeral port is any of 32768-65535"}));

TEST(EvaluateExploration, AFalseMatchEndsTheRuleWithoutAskingAboutItsUndecidableOnes) {
  const Ruleset rs = output_chain(
      rule("out", R"([{"match":{"op":"==","left":{"meta":{"key":"skuid"}},"right":0}},)" + kTcp443 +
                      R"(,{"drop":null}])") +
      rule("out", R"([{"accept":null}])"));
  const Verdict v = to(rs, "192.0.2.1", 80);
  EXPECT_EQ(v.kind, VerdictKind::accept);
  for (const auto& note : v.notes) {
    EXPECT_EQ(note.find("same verdict either way"), std::string::npos) << note;
  }
}

TEST(EvaluateMarks, AMarkSetEarlierIsSeenByLaterRules) {
  const Ruleset rs =
      output_chain(rule("out", R"([{"mangle":{"key":{"meta":{"key":"mark"}},"value":7}}])") +
                   rule("out", R"([{"match":{"op":"==","left":{"meta":{"key":"mark"}},"right":7}},)"
                               R"({"accept":null}])"));
  EXPECT_EQ(to(rs, "192.0.2.1", 443).kind, VerdictKind::accept);
  const Ruleset unset = output_chain(
      rule("out",
           R"([{"match":{"op":"==","left":{"meta":{"key":"mark"}},"right":7}},{"accept":null}])"));
  EXPECT_EQ(to(unset, "192.0.2.1", 443).kind, VerdictKind::drop);
}

}  // namespace
}  // namespace gwprobe::rules::firewall
