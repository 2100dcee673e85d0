// Destinations x ports against rulesets: results, partial blocks, names and resolvers.
#include "rules/firewall/firewall_check.hpp"

#include <gtest/gtest.h>

#include "rules/firewall/testdata_path.hpp"

namespace gwprobe::rules::firewall {
namespace {

using testing::ruleset;
using testing::testdata;

const core::ProbeResult& result_for(const std::vector<core::ProbeResult>& results,
                                    const std::string& id) {
  for (const auto& r : results) {
    if (r.id == id) return r;
  }
  ADD_FAILURE() << "no result " << id;
  return results.front();
}

TEST(FirewallCheck, LiteralDestinationsGetOneResultPerPortWithTheDecidingRule) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  auto destination = parse_destination("198.51.100.5:443,9352");
  ASSERT_TRUE(destination);
  destination->name = "Azure Relay";
  FirewallCheckOptions options;
  options.oif = "eth0";
  const auto results = evaluate_firewall(rs, {*destination}, options);
  ASSERT_EQ(results.size(), 2u);
  const auto& ok = result_for(results, "firewall:198.51.100.5:443");
  EXPECT_EQ(ok.status, core::Status::pass);
  EXPECT_EQ(ok.kind, "firewall");
  EXPECT_EQ(ok.endpoint, "Azure Relay");
  EXPECT_EQ(ok.message.rfind("accepted by inet gwfilter output handle 11: ip daddr @relay_v4", 0),
            0u)
      << ok.message;
  const auto& blocked = result_for(results, "firewall:198.51.100.5:9352");
  EXPECT_EQ(blocked.status, core::Status::fail);
  EXPECT_EQ(blocked.diagnosis, core::Diagnosis::fw_blocks_required);
  EXPECT_EQ(blocked.message,
            "rejected (tcp reset) by inet gwfilter output handle 9: tcp dport @blocked_ports "
            "reject with tcp reset");
  EXPECT_EQ(blocked.fact_text("expected_tcp"), "TCP_REFUSED");
  EXPECT_EQ(blocked.fact_text("rule"),
            "inet gwfilter output handle 9: tcp dport @blocked_ports reject with tcp reset");
  EXPECT_NE(blocked.advice.find("before inet gwfilter output handle 9"), std::string::npos);
}

TEST(FirewallCheck, ServiceTagRangesThatAreOnlyPartlyAllowedAreBlockedWithTheRangesNamed) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  auto tags = parse_service_tags(testdata("service-tags-sample.json"));
  ASSERT_TRUE(tags);
  FirewallDestination relay{"Azure Relay", "*.servicebus.windows.net", "", {443}, true};
  FirewallCheckOptions options;
  options.oif = "eth0";
  options.service_tags = &*tags;
  options.regions = {"westeurope"};
  const auto verdicts = check_firewall(rs, {relay}, options);
  ASSERT_EQ(verdicts.size(), 1u);
  const auto& port = verdicts[0].ports.at(0);
  std::vector<std::string> blocked;
  for (const auto& r : port.blocked) blocked.push_back(r.to_string());
  EXPECT_EQ(blocked,
            (std::vector<std::string>{"203.0.113.0-203.0.113.9", "203.0.113.11-203.0.113.19",
                                      "203.0.113.30-203.0.113.127"}));
  const auto results = firewall_results(verdicts);
  const auto& r = result_for(results, "firewall:*.servicebus.windows.net:443");
  EXPECT_EQ(r.diagnosis, core::Diagnosis::fw_blocks_required);
  EXPECT_EQ(r.message,
            "blocked for 3 of 6 address ranges: drop by policy of inet gwfilter output: policy "
            "drop (e.g. 203.0.113.0-203.0.113.9)");
  EXPECT_NE(r.fact_text("address_origin").find("ServiceBus.WestEurope"), std::string::npos);
}

TEST(FirewallCheck, NamesWithoutAResolverOrTagAreUnknownNotGuessed) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  FirewallDestination download{"Installer", "download.microsoft.com", "", {443}, false};
  const auto results = evaluate_firewall(rs, {download}, {});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, core::Status::warn);
  EXPECT_EQ(results[0].diagnosis, core::Diagnosis::fw_verdict_unknown);
  EXPECT_EQ(results[0].message,
            "unknown because download.microsoft.com is a name and static evaluation needs "
            "addresses: give --service-tags for the hosts they cover, or an IP literal");
}

TEST(FirewallCheck, TheResolverCallbackTurnsNamesIntoAddresses) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  FirewallDestination portal{"Portal", "*.powerbi.com", "app.powerbi.com", {443}, true};
  FirewallCheckOptions options;
  std::string asked;
  options.resolver = [&](const std::string& host) -> core::Result<std::vector<std::string>> {
    asked = host;
    return std::vector<std::string>{"192.0.2.10", "not-an-address"};
  };
  const auto verdicts = check_firewall(rs, {portal}, options);
  EXPECT_EQ(asked, "app.powerbi.com");
  ASSERT_EQ(verdicts[0].addresses.size(), 1u);
  EXPECT_EQ(verdicts[0].address_origin, "resolved app.powerbi.com");
  EXPECT_EQ(verdicts[0].ports[0].verdict.kind, VerdictKind::accept);  // corp chain accepts 443

  options.resolver = [](const std::string& host) -> core::Result<std::vector<std::string>> {
    return core::fail(core::FailureKind::not_found, host + ": NXDOMAIN");
  };
  const auto failed = evaluate_firewall(rs, {portal}, options);
  EXPECT_EQ(failed[0].message,
            "unknown because app.powerbi.com did not resolve: app.powerbi.com: NXDOMAIN");
}

TEST(FirewallCheck, AnOptionalDestinationThatIsBlockedOnlyWarns) {
  const Ruleset rs = ruleset("gateway-output.nft.json");
  FirewallDestination tds{"Fabric TDS", "203.0.113.200", "", {1433}, false};
  const auto results = evaluate_firewall(rs, {tds}, {});
  EXPECT_EQ(results[0].status, core::Status::warn);
  EXPECT_EQ(results[0].diagnosis, core::Diagnosis::fw_blocks_required);
}

TEST(Destination, ParsesHostsPortsAndRanges) {
  auto d = parse_destination("relay.example:443,9350-9352");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->host, "relay.example");
  EXPECT_EQ(d->ports, (std::vector<std::uint16_t>{443, 9350, 9351, 9352}));
  auto v6 = parse_destination("[2001:db8::1]:443");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_TRUE(parse_destination("*.servicebus.windows.net:5671"));
}

TEST(Destination, RejectsMalformedDestinations) {
  for (const char* bad :
       {"relay.example", "relay.example:", ":443", "relay.example:0", "relay.example:70000",
        "2001:db8::1:443", "relay.example:9354-9350", "bad host:443", "relay.example:1-2000"}) {
    auto d = parse_destination(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().message.rfind(std::string("bad destination '") + bad + "'", 0), 0u)
        << d.error().message;
  }
}

}  // namespace
}  // namespace gwprobe::rules::firewall
