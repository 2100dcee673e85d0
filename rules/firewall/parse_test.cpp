// Ruleset parsing: nft JSON and iptables-save, their translation, and clear errors.
#include <gtest/gtest.h>

#include "rules/firewall/firewall_check.hpp"
#include "rules/firewall/iptables_save.hpp"
#include "rules/firewall/nft_json.hpp"
#include "rules/firewall/testdata_path.hpp"

namespace gwprobe::rules::firewall {
namespace {

using testing::testdata;

TEST(NftJson, ReadsTablesChainsRulesAndSetsOfARealExport) {
  auto rs = parse_nft_json(testdata("gateway-output.nft.json"));
  ASSERT_TRUE(rs) << rs.error().message;
  const Chain* output = rs->find_chain("inet", "gwfilter", "output");
  ASSERT_NE(output, nullptr);
  ASSERT_TRUE(output->hook);
  EXPECT_EQ(*output->hook, Hook::output);
  EXPECT_EQ(output->policy, "drop");
  EXPECT_EQ(output->priority, 0);
  EXPECT_EQ(output->rules.size(), 10u);
  EXPECT_EQ(output->rules[0].location, "inet gwfilter output handle 6");
  EXPECT_EQ(output->rules[0].text, "ct state established,related accept");
  EXPECT_EQ(output->rules[4].text,
            "ip daddr @relay_v4 tcp dport { 443, 5671-5672, 9350-9354 } accept");
  EXPECT_EQ(output->rules[1].text, "oifname \"lo\" accept");
  EXPECT_EQ(rs->find_chain("ip", "gwextra", "output")->priority, 10);
  const NamedSet* relay = rs->find_set("inet", "gwfilter", "relay_v4");
  ASSERT_NE(relay, nullptr);
  EXPECT_EQ(relay->elements.size(), 3u);
  EXPECT_FALSE(relay->dynamic);
}

TEST(NftJson, RendersVerdictMapsAndRejectTypes) {
  auto rs = parse_nft_json(testdata("router-forward.nft.json"));
  ASSERT_TRUE(rs) << rs.error().message;
  const Chain* egress = rs->find_chain("inet", "gwrouter", "egress");
  ASSERT_NE(egress, nullptr);
  EXPECT_EQ(egress->rules[5].text, "tcp dport 9352 reject with icmpx admin-prohibited");
  EXPECT_EQ(egress->rules[6].text,
            "tcp dport vmap { 1433 : jump tds, 9353 : drop, 9354 : accept }");
}

struct BadInput {
  const char* label;
  const char* text;
  const char* message;
};

class NftJsonRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(NftJsonRejects, WithFileLineColumnAndWhatWasExpected) {
  const auto& p = GetParam();
  auto rs = parse_nft_json(bgp::SourceText{"rs.json", p.text});
  ASSERT_FALSE(rs) << p.label;
  EXPECT_EQ(rs.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(rs.error().message, p.message) << p.label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, NftJsonRejects,
    ::testing::Values(
        BadInput{"not nft", "{\"rules\": []}",
                 "rs.json:1:1: expected `nft -j list ruleset` output: {\"nftables\": [...]}"},
        BadInput{"syntax", "{\"nftables\": [\n  {\"table\": {}},\n  oops\n]}",
                 "rs.json:3:3: invalid JSON: syntax error while parsing value - invalid literal; "
                 "last read: '\"table\": {}},<U+000A>  o'"},
        BadInput{"two keys", "{\"nftables\": [{\"table\": {}, \"chain\": {}}]}",
                 "rs.json:1:15: expected an object with one key (table, chain, rule, set ...)"},
        BadInput{"rule without chain",
                 "{\"nftables\": [\n {\"rule\": {\"family\": \"ip\", \"table\": \"t\", "
                 "\"expr\": []}}]}",
                 "rs.json:2:11: rule without \"chain\""},
        BadInput{"rule of an undefined chain",
                 "{\"nftables\": [{\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": "
                 "\"c\", \"expr\": []}}]}",
                 "rs.json:1:24: rule for chain ip t c, which the ruleset does not define"},
        BadInput{"bad hook",
                 "{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": \"t\", \"name\": "
                 "\"c\", \"hook\": \"sideways\", \"prio\": 0}}]}",
                 "rs.json:1:77: unknown hook \"sideways\""},
        BadInput{"bad policy",
                 "{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": \"t\", \"name\": "
                 "\"c\", \"hook\": \"output\", \"prio\": 0, \"policy\": \"maybe\"}}]}",
                 "rs.json:1:108: expected policy accept or drop, got \"maybe\""},
        BadInput{"expression not an object",
                 "{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": \"t\", \"name\": "
                 "\"c\"}}, {\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"c\", "
                 "\"expr\": [\"accept\"]}}]}",
                 "rs.json:1:134: expected an expression object with one key (match, accept, "
                 "...)"}));

TEST(IptablesSave, ReadsTablesChainsPoliciesAndLineNumbers) {
  auto rs = parse_iptables_save(testdata("router-forward.iptables-save"));
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->format, RulesetFormat::iptables_save);
  EXPECT_EQ(rs->iptables_family, "ip");
  const Chain* forward = rs->find_chain("ip", "filter", "FORWARD");
  ASSERT_NE(forward, nullptr);
  EXPECT_EQ(*forward->hook, Hook::forward);
  EXPECT_EQ(forward->policy, "drop");
  EXPECT_EQ(forward->rules.size(), 2u);
  EXPECT_EQ(forward->rules[1].location, "line 9");
  EXPECT_EQ(forward->rules[1].text, "-A FORWARD -i bgpfwr0 -o bgpfwr1 -j EGRESS");
  const Chain* egress = rs->find_chain("ip", "filter", "EGRESS");
  ASSERT_NE(egress, nullptr);
  EXPECT_FALSE(egress->hook);
}

TEST(IptablesSave, TranslatesMatchesAsIptablesNftDoes) {
  auto rs = parse_iptables_save(bgp::SourceText{
      "t.rules",
      "*filter\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n"
      "-A OUTPUT ! -d 10.0.0.0/255.0.0.0 -p tcp -m tcp --dport 1024: -o eth+ -j X\n"
      "-A OUTPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -m conntrack ! --ctstate INVALID -j DROP\n"
      "-A OUTPUT -m set --match-set blocked dst -j REJECT\n"
      "-A OUTPUT -p tcp -m multiport ! --dports 80,443 -m mark --mark 0x1/0xff -j MARK "
      "--set-xmark 0x2/0xffffffff\n"
      "COMMIT\n"});
  ASSERT_TRUE(rs) << rs.error().message;
  const auto& rules = rs->find_chain("ip", "filter", "OUTPUT")->rules;
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(nft_rule_text(rules[0].expr),
            "ip daddr != 10.0.0.0/8 meta l4proto tcp tcp dport 1024-65535 oifname \"eth*\" jump X");
  EXPECT_EQ(nft_rule_text(rules[1].expr),
            "meta l4proto tcp tcp flags & (syn | ack) syn ct state != invalid drop");
  EXPECT_EQ(nft_rule_text(rules[2].expr), "xt match set reject with icmp port-unreachable");
  EXPECT_EQ(nft_rule_text(rules[3].expr),
            "meta l4proto tcp th dport != { 80, 443 } meta mark & 255 1 meta mark set 2");
}

class IptablesSaveRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(IptablesSaveRejects, WithFileLineColumnAndWhatWasExpected) {
  const auto& p = GetParam();
  auto rs = parse_iptables_save(bgp::SourceText{"ipt", p.text});
  ASSERT_FALSE(rs) << p.label;
  EXPECT_EQ(rs.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(rs.error().message, p.message) << p.label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, IptablesSaveRejects,
    ::testing::Values(
        BadInput{"no commit", "*filter\n:OUTPUT ACCEPT [0:0]\n",
                 "ipt:1:1: table filter has no COMMIT"},
        BadInput{
            "unknown table", "*routing\nCOMMIT\n",
            "ipt:1:1: unknown table 'routing' (expected filter, nat, mangle, raw or security)"},
        BadInput{"policy on a user chain", "*filter\n:MINE DROP [0:0]\nCOMMIT\n",
                 "ipt:2:1: 'MINE' is not a built-in chain of table filter, so it cannot have a "
                 "policy"},
        BadInput{"bad policy", "*filter\n:OUTPUT REJECT [0:0]\nCOMMIT\n",
                 "ipt:2:9: expected policy ACCEPT or DROP, got 'REJECT'"},
        BadInput{"undeclared chain", "*filter\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n",
                 "ipt:3:4: chain 'INPUT' is not declared in table filter (missing ':INPUT ...' "
                 "line)"},
        BadInput{"jump to nowhere", "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j nowhere\nCOMMIT\n",
                 "ipt:3:14: -j nowhere: no chain of that name is declared in this table"},
        BadInput{"bad address",
                 "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 10.0.0.300 -j DROP\nCOMMIT\n",
                 "ipt:3:14: expected an address or address/mask, got '10.0.0.300'"},
        BadInput{"bad port",
                 "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -m tcp --dport 99999 -j "
                 "DROP\nCOMMIT\n",
                 "ipt:3:33: expected a port or port:port, got '99999'"},
        BadInput{"unknown option",
                 "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT --frobnicate -j DROP\nCOMMIT\n",
                 "ipt:3:11: unknown option '--frobnicate'"},
        BadInput{
            "unterminated quote",
            "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m comment --comment \"x -j DROP\nCOMMIT\n",
            "ipt:3:32: unterminated quoted string"},
        BadInput{"garbage line", "*filter\nhello\nCOMMIT\n",
                 "ipt:2:1: expected '*table', ':CHAIN POLICY', '-A CHAIN ...' or COMMIT, got "
                 "'hello'"},
        BadInput{
            "unknown reject type",
            "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j REJECT --reject-with icmp-bogus\nCOMMIT\n",
            "ipt:3:35: unknown --reject-with 'icmp-bogus'"}));

TEST(LoadRuleset, DetectsTheFormatAndRefusesAnythingElse) {
  EXPECT_EQ(load_ruleset(testdata("router-forward.nft.json"))->format, RulesetFormat::nft_json);
  EXPECT_EQ(load_ruleset(testdata("router-forward.iptables-save"))->format,
            RulesetFormat::iptables_save);
  auto bad = load_ruleset(bgp::SourceText{"x.txt", "table inet f { }\n"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "x.txt:1:1: neither nft JSON (`nft -j list ruleset`) nor iptables-save output");
}

TEST(LoadRuleset, Ip6tablesSaveIsRecognisedByItsHeader) {
  auto rs = load_ruleset(bgp::SourceText{
      "v6",
      "# Generated by ip6tables-save v1.8.9 (nf_tables)\n*filter\n:OUTPUT DROP [0:0]\n"
      "-A OUTPUT -d 2001:db8::/32 -p tcp -j REJECT --reject-with icmp6-adm-prohibited\n"
      "COMMIT\n"});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->iptables_family, "ip6");
  PacketQuery q{*IpAddress::parse("2001:db8::5"), 443, Path::output, "", "", std::nullopt, true};
  const Verdict v = evaluate_packet(*rs, q);
  EXPECT_EQ(v.kind, VerdictKind::reject);
  EXPECT_EQ(v.reject_type, "icmpv6 admin-prohibited");
  q.destination = *IpAddress::parse("192.0.2.1");
  EXPECT_EQ(evaluate_packet(*rs, q).kind, VerdictKind::unknown);
}

}  // namespace
}  // namespace gwprobe::rules::firewall
