// `gwprobe firewall`: exit codes, messages and output of the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

ProcessResult gwprobe(std::vector<std::string> args) {
  args.insert(args.begin(), gwprobe_binary());
  return run_process(args);
}

std::string testdata(const std::string& name) {
  return std::string(GWPROBE_SOURCE_DIR) + "/rules/firewall/testdata/" + name;
}

TEST(CliFirewall, NamesTheRuleThatBlocksEachRequiredPortAndExitsOne) {
  auto r =
      gwprobe({"firewall", "--ruleset", testdata("router-forward.nft.json"), "--profile",
               testdata("lab-profile.toml"), "--forward", "--iif", "bgpfwr0", "--oif", "bgpfwr1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("ACCEPT   10.240.2.2:443                       Lab relay"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("DROP     10.240.2.2:9350                      Lab relay (TCP mode)  "
                       "FW_BLOCKS_REQUIRED"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("dropped by inet gwrouter egress handle 11: tcp dport 9350 drop"),
            std::string::npos);
  EXPECT_NE(r.out.find("Result: 5 required destination ports blocked, 1 warning"),
            std::string::npos);
}

TEST(CliFirewall, IptablesSaveWorksTheSameWayAndJsonIsParseable) {
  auto r = gwprobe({"firewall", "--ruleset", testdata("router-forward.iptables-save"), "--dest",
                    "10.240.2.2:443,9351", "--forward", "--iif", "bgpfwr0", "--oif", "bgpfwr1",
                    "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["schema"], "gwprobe.firewall/v1");
  EXPECT_EQ(json["ruleset"]["format"], "iptables-save (ip)");
  EXPECT_EQ(json["results"][0]["status"], "pass");
  EXPECT_EQ(json["results"][1]["diagnosis"], "FW_BLOCKS_REQUIRED");
  EXPECT_EQ(json["results"][1]["facts"]["rule"],
            "line 14: -A EGRESS -p tcp -m tcp --dport 9351 -j REJECT --reject-with tcp-reset");
  EXPECT_EQ(json["results"][1]["facts"]["expected_tcp"], "TCP_REFUSED");
}

TEST(CliFirewall, AllAcceptedExitsZero) {
  auto r = gwprobe({"firewall", "--ruleset", testdata("gateway-output.nft.json"), "--dest",
                    "198.51.100.5:443,5671-5672,9350-9351", "--oif", "eth0"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Result: every destination port accepted"), std::string::npos);
}

TEST(CliFirewall, UnknownVerdictsWarnAndStrictMakesThemFail) {
  const std::vector<std::string> args = {
      "firewall", "--ruleset", testdata("gateway-output.nft.json"), "--dest", "10.1.2.3:22"};
  auto r = gwprobe(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("UNKNOWN"), std::string::npos);
  EXPECT_NE(r.out.find("unknown because inet gwfilter output handle 14 matches only if meta "
                       "skuid"),
            std::string::npos)
      << r.out;
  auto strict = args;
  strict.push_back("--strict");
  EXPECT_EQ(gwprobe(strict).exit_code, 1);
}

TEST(CliFirewall, ChecksAnAllowlistAgainstTheServiceTagsOfAGeography) {
  auto r = gwprobe({"firewall", "--service-tags", testdata("service-tags-sample.json"),
                    "--allowlist", testdata("allowlist-westeurope.txt"), "--geography", "Europe"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("OK       ServiceBus.WestEurope"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GAPS     ServiceBus.NorthEurope"), std::string::npos);
  EXPECT_NE(r.out.find("198.51.100.64/26"), std::string::npos);
  EXPECT_NE(r.out.find("MISSING  AzureCloud.northeurope"), std::string::npos);
}

TEST(CliFirewall, AMalformedRulesetIsAUsageErrorWithItsPosition) {
  auto r = gwprobe(
      {"firewall", "--ruleset", testdata("gateway-output.rules"), "--dest", "10.0.0.1:443"});
  // gateway-output.rules is iptables-restore input with comments: it parses as iptables-save.
  EXPECT_NE(r.exit_code, 2) << r.err;
  auto bad =
      gwprobe({"firewall", "--ruleset", testdata("lab-profile.toml"), "--dest", "10.0.0.1:443"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("lab-profile.toml:3:1: expected '*table', ':CHAIN POLICY', '-A CHAIN "
                         "...' or COMMIT"),
            std::string::npos)
      << bad.err;
}

TEST(CliFirewall, UsageErrorsExitTwo) {
  EXPECT_EQ(gwprobe({"firewall"}).exit_code, 2);
  auto no_dest = gwprobe({"firewall", "--ruleset", testdata("gateway-output.nft.json")});
  EXPECT_EQ(no_dest.exit_code, 2);
  EXPECT_NE(no_dest.err.find("--ruleset needs destinations: --profile or --dest"),
            std::string::npos);
  auto bad_dest = gwprobe(
      {"firewall", "--ruleset", testdata("gateway-output.nft.json"), "--dest", "relay.example"});
  EXPECT_EQ(bad_dest.exit_code, 2);
  EXPECT_NE(bad_dest.err.find("bad destination 'relay.example': no port"), std::string::npos);
  auto iif = gwprobe({"firewall", "--ruleset", testdata("gateway-output.nft.json"), "--dest",
                      "10.0.0.1:443", "--iif", "eth1"});
  EXPECT_EQ(iif.exit_code, 2);
  auto geo = gwprobe({"firewall", "--service-tags", testdata("service-tags-sample.json"),
                      "--allowlist", testdata("allowlist-westeurope.txt"), "--geography", "Mars"});
  EXPECT_EQ(geo.exit_code, 2);
  EXPECT_NE(geo.err.find("unknown Power Platform geography 'Mars'"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::testing
