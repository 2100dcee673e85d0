// `gwprobe bgp`: exit codes, messages and output of the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

ProcessResult gwprobe(std::vector<std::string> args, const std::string& stdin_data = {}) {
  args.insert(args.begin(), gwprobe_binary());
  ProcessOptions options;
  options.stdin_data = stdin_data;
  return run_process(args, options);
}

std::string testdata(const std::string& name) {
  return std::string(GWPROBE_SOURCE_DIR) + "/rules/bgp/testdata/" + name;
}

TEST(CliBgp, PlanPrintsTheTwoRegionalCommunitiesAndTheRuleWithItsSource) {
  auto r = gwprobe({"bgp", "plan", "--geography", "europe"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("12076:51002  West Europe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("12076:51003  North Europe"), std::string::npos);
  EXPECT_NE(r.out.find("12076:5060   Microsoft Entra ID"), std::string::npos);
  EXPECT_NE(r.out.find("Rule (S8):"), std::string::npos);
}

TEST(CliBgp, PlanAsJsonIsParseableAndMarksUnverifiedValues) {
  auto r = gwprobe({"bgp", "plan", "-g", "Italy", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["schema"], "gwprobe.bgp-plan/v1");
  EXPECT_EQ(json["regional"][0]["name"], "Italy North");
  EXPECT_EQ(json["regional"][0]["unverified"], true);
}

TEST(CliBgp, AnUnknownGeographyIsAUsageErrorListingTheValidNames) {
  auto r = gwprobe({"bgp", "plan", "-g", "Atlantis"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("BGP_UNKNOWN_GEOGRAPHY: unknown Power Platform geography 'Atlantis'; "
                       "known: United States, South Africa, UK"),
            std::string::npos)
      << r.err;
}

TEST(CliBgp, CheckExitsOneAndNamesTheMissingRegion) {
  auto r = gwprobe(
      {"bgp", "check", "-g", "Europe", "--route-filter", testdata("az-route-filter-show.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("MISSING    12076:51003  North Europe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BGP_COMMUNITY_MISSING"), std::string::npos);
  EXPECT_NE(r.out.find("12076:51004  East US (regional, S7)"), std::string::npos);
}

TEST(CliBgp, CheckExitsZeroWhenEveryNeededCommunityIsAllowedAndRoutesArrive) {
  auto r = gwprobe({"bgp", "check", "-g", "EU", "--route-filter",
                    testdata("communities-europe.txt"), "--routes",
                    testdata("frr-show-bgp-ipv4-unicast-json-detail.json"), "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["verdict"], "ok");
  EXPECT_EQ(json["checks"][1]["routes"]["count"], 1);
  EXPECT_EQ(json["checks"][1]["routes"]["example_prefix"], "198.18.5.0/24");
}

TEST(CliBgp, CheckReportsRoutesThatNeverArriveFromABirdDump) {
  auto r =
      gwprobe({"bgp", "check", "-g", "Europe", "--route-filter", testdata("communities-europe.txt"),
               "--routes", testdata("bird-show-route-all.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("NO ROUTES  12076:51003  North Europe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BGP_ROUTES_MISSING"), std::string::npos);
}

TEST(CliBgp, CheckReadsTheRouteFilterFromStandardInput) {
  auto r = gwprobe({"bgp", "check", "-g", "Europe", "--route-filter", "-"},
                   "12076:51002, 12076:51003, 12076:5060\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Route filter: <stdin>"), std::string::npos);
}

TEST(CliBgp, AMalformedRouteFilterIsAUsageErrorWithItsPosition) {
  auto r = gwprobe({"bgp", "check", "-g", "Europe", "--route-filter", "-"},
                   "12076:51002\n12076:5060 westeurope\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("gwprobe: <stdin>:2:12: 'westeurope' is not a BGP community"),
            std::string::npos)
      << r.err;
}

TEST(CliBgp, AMissingFileIsAUsageError) {
  auto r = gwprobe({"bgp", "check", "-g", "Europe", "--route-filter", "/nonexistent/rf.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/rf.json: no such file"), std::string::npos) << r.err;
}

TEST(CliBgp, StrictTurnsAnUnverifiedCommunityIntoExitOne) {
  const auto filter = testdata("communities-europe.txt");
  EXPECT_EQ(gwprobe({"bgp", "check", "-g", "Sweden", "--route-filter", filter}).exit_code, 0);
  auto strict = gwprobe({"bgp", "check", "-g", "Sweden", "--route-filter", filter, "--strict"});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.out.find("UNVERIFIED"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::testing
