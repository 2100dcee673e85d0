// Text and JSON renderings of BGP plans and checks.
#include "rules/bgp/bgp_format.hpp"

#include <gtest/gtest.h>

namespace gwprobe::rules::bgp {
namespace {

TEST(BgpFormat, PlanTextQuotesTheRuleAndListsCommunitiesWithSources) {
  auto plan = plan_bgp(shipped_catalog(), "Europe");
  ASSERT_TRUE(plan);
  const std::string text = format_plan_text(*plan, shipped_catalog());
  EXPECT_NE(text.find("Power Platform geography: Europe (regions from S9)"), std::string::npos);
  EXPECT_NE(text.find("Rule (S8): \"Because Power Platform doesn't have designated BGP"),
            std::string::npos);
  EXPECT_NE(text.find("12076:51002  West Europe          westeurope           S7 (DERIVED)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("12076:5060   Microsoft Entra ID"), std::string::npos) << text;
  EXPECT_NE(text.find("S8: MicrosoftDocs/power-platform"), std::string::npos);
  EXPECT_EQ(text.find("UNVERIFIED"), std::string::npos);
}

TEST(BgpFormat, PlanTextAndJsonMarkUnverifiedValues) {
  auto plan = plan_bgp(shipped_catalog(), "Sweden");
  ASSERT_TRUE(plan);
  const std::string text = format_plan_text(*plan, shipped_catalog());
  EXPECT_NE(text.find("UNVERIFIED   Sweden Central"), std::string::npos) << text;
  const auto json = plan_to_json(*plan, shipped_catalog());
  EXPECT_EQ(json["regional"][0]["unverified"], true);
  EXPECT_TRUE(json["regional"][0]["community"].is_null());
  EXPECT_EQ(json["schema"], "gwprobe.bgp-plan/v1");
  EXPECT_EQ(json["rule"]["source"], "S8");
}

TEST(BgpFormat, CheckTextNamesMissingCommunitiesWithTheirCode) {
  auto filter = parse_route_filter(SourceText{"rf.txt", "12076:51002\n12076:51004\n"});
  ASSERT_TRUE(filter);
  auto check = check_bgp(BgpCheckInput{"Europe", *filter, std::nullopt, nullptr});
  ASSERT_TRUE(check);
  const std::string text = format_check_text(*check);
  EXPECT_NE(text.find("OK         12076:51002  West Europe"), std::string::npos) << text;
  EXPECT_NE(text.find("MISSING    12076:51003  North Europe         DERIVED  "
                      "BGP_COMMUNITY_MISSING"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("12076:51004  East US (regional, S7)  rule 'community list'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Result: 1 required community missing"), std::string::npos) << text;

  const auto json = check_to_json(*check);
  EXPECT_EQ(json["verdict"], "missing");
  EXPECT_EQ(json["checks"][1]["state"], "missing");
  EXPECT_EQ(json["checks"][1]["diagnosis"], "BGP_COMMUNITY_MISSING");
  EXPECT_EQ(json["extras"][0]["community"], "12076:51004");
}

TEST(BgpFormat, CheckJsonSaysOkWhenEverythingRequiredIsThere) {
  auto filter = parse_route_filter(SourceText{"rf.txt", "12076:51002,12076:51003,12076:5060"});
  ASSERT_TRUE(filter);
  auto check = check_bgp(BgpCheckInput{"EU", *filter, std::nullopt, nullptr});
  ASSERT_TRUE(check);
  EXPECT_EQ(check_to_json(*check)["verdict"], "ok");
  EXPECT_NE(format_check_text(*check).find("Result: all needed communities present"),
            std::string::npos);
}

}  // namespace
}  // namespace gwprobe::rules::bgp
