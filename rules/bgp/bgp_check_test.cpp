// ExpressRoute evaluation: plans per geography, route filters against them, routes that arrive.
#include "rules/bgp/bgp_check.hpp"

#include <gtest/gtest.h>

#include "rules/bgp/testdata_path.hpp"

namespace gwprobe::rules::bgp {
namespace {

using testing::testdata;

RouteFilter filter_of(const std::string& name) {
  auto filter = parse_route_filter(testdata(name));
  EXPECT_TRUE(filter) << filter.error().message;
  return filter ? *filter : RouteFilter{};
}

RouteFilter list_filter(const std::string& communities) {
  auto filter = parse_route_filter(SourceText{"list.txt", communities});
  EXPECT_TRUE(filter) << filter.error().message;
  return *filter;
}

RouteDump dump_of(const std::string& name) {
  auto dump = parse_route_dump(testdata(name));
  EXPECT_TRUE(dump) << dump.error().message;
  return dump ? *dump : RouteDump{};
}

const CommunityCheck& check_for(const BgpCheck& check, const std::string& community) {
  for (const auto& c : check.checks) {
    if (c.need.community_text() == community) return c;
  }
  ADD_FAILURE() << "no check for " << community;
  return check.checks.front();
}

const core::ProbeResult& result_for(const std::vector<core::ProbeResult>& results,
                                    const std::string& id) {
  for (const auto& r : results) {
    if (r.id == id) return r;
  }
  ADD_FAILURE() << "no result " << id;
  return results.front();
}

TEST(BgpPlan, EuropeNeedsWestAndNorthEuropeAndEntraIdForSignIn) {
  auto plan = plan_bgp(shipped_catalog(), "europe");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->geography, "Europe");
  ASSERT_EQ(plan->regional.size(), 2u);
  EXPECT_EQ(plan->regional[0].community_text(), "12076:51002");
  EXPECT_EQ(plan->regional[0].label, "West Europe");
  EXPECT_EQ(plan->regional[1].community_text(), "12076:51003");
  EXPECT_EQ(plan->regional[1].label, "North Europe");
  for (const auto& need : plan->regional) {
    EXPECT_TRUE(need.required);
    EXPECT_TRUE(need.derived);
    EXPECT_FALSE(need.unverified);
    EXPECT_EQ(need.source, "S7");
  }
  ASSERT_EQ(plan->also_needed.size(), 1u);
  EXPECT_EQ(plan->also_needed[0].community_text(), "12076:5060");
  EXPECT_FALSE(plan->also_needed[0].required);
  EXPECT_EQ(plan->rule_source, "S8");
}

TEST(BgpPlan, UnitedStatesByAliasNeedsEastAndWestUs) {
  auto plan = plan_bgp(shipped_catalog(), "US");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->geography, "United States");
  ASSERT_EQ(plan->regional.size(), 2u);
  EXPECT_EQ(plan->regional[0].community_text(), "12076:51004");
  EXPECT_EQ(plan->regional[1].community_text(), "12076:51006");
}

TEST(BgpPlan, SwedenHasAnUnverifiedCommunityAndSaysSo) {
  auto plan = plan_bgp(shipped_catalog(), "Sweden");
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->regional.size(), 1u);
  EXPECT_TRUE(plan->regional[0].unverified);
  EXPECT_FALSE(plan->regional[0].community);
  EXPECT_EQ(plan->regional[0].community_text(), "UNVERIFIED");
  bool noted = false;
  for (const auto& note : plan->notes) noted |= note.find("UNVERIFIED: Sweden Central") == 0;
  EXPECT_TRUE(noted);
}

TEST(BgpPlan, AnUnknownGeographyListsTheValidNames) {
  auto plan = plan_bgp(shipped_catalog(), "Atlantis");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(plan.error().message.rfind("unknown Power Platform geography 'Atlantis'; known: "
                                       "United States, South Africa, UK, Japan",
                                       0),
            0u)
      << plan.error().message;
}

TEST(BgpCheck, AFilterMissingNorthEuropeReportsItByRegion) {
  BgpCheckInput input{"Europe", filter_of("az-route-filter-show.json"), std::nullopt, nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  EXPECT_EQ(check_for(*check, "12076:51002").state, CommunityState::allowed);
  EXPECT_EQ(check_for(*check, "12076:51002").rule, "allow-powerplatform");
  EXPECT_EQ(check_for(*check, "12076:51003").state, CommunityState::missing);
  EXPECT_EQ(check_for(*check, "12076:5060").state, CommunityState::allowed);
  EXPECT_TRUE(check->any_required_missing());
  ASSERT_EQ(check->extras.size(), 1u);
  EXPECT_EQ(check->extras[0].community.to_string(), "12076:51004");
  EXPECT_EQ(check->extras[0].description, "East US (regional, S7)");

  const auto results = evaluate_bgp(input);
  const auto& north = result_for(results, "bgp:12076:51003");
  EXPECT_EQ(north.status, core::Status::fail);
  EXPECT_EQ(north.diagnosis, core::Diagnosis::bgp_community_missing);
  EXPECT_EQ(north.message, "route filter lacks 12076:51003 (North Europe), needed for Europe");
  EXPECT_NE(north.advice.find("--add communities 12076:51003"), std::string::npos);
  EXPECT_EQ(north.fact_text("region"), "North Europe");
  EXPECT_EQ(north.fact_text("missing_community"), "12076:51003");  // read by rules::advice_for
  EXPECT_EQ(result_for(results, "bgp:12076:51002").status, core::Status::pass);
  EXPECT_EQ(result_for(results, "bgp:extra-communities").fact_text("extra_communities"),
            "12076:51004 East US (regional, S7)");
}

TEST(BgpCheck, ADenyRuleWinsOverAnAllowRule) {
  BgpCheckInput input{"Europe", filter_of("arm-route-filter.json"), std::nullopt, nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  EXPECT_EQ(check_for(*check, "12076:51003").state, CommunityState::denied);
  EXPECT_EQ(check_for(*check, "12076:51003").rule, "deny-north-europe");
  const auto results = evaluate_bgp(input);
  const auto& north = result_for(results, "bgp:12076:51003");
  EXPECT_EQ(north.diagnosis, core::Diagnosis::bgp_community_missing);
  EXPECT_EQ(north.message,
            "route filter rule 'deny-north-europe' denies 12076:51003 (North Europe), needed for "
            "Europe");
}

TEST(BgpCheck, AMissingEntraCommunityIsOnlyAWarning) {
  BgpCheckInput input{"Europe", list_filter("12076:51002 12076:51003"), std::nullopt, nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->any_required_missing());
  const auto results = evaluate_bgp(input);
  EXPECT_EQ(result_for(results, "bgp:12076:5060").status, core::Status::warn);
  EXPECT_EQ(result_for(results, "bgp:12076:51003").status, core::Status::pass);
}

TEST(BgpCheck, RoutesCapturedFromBirdShowNorthEuropeNeverArrives) {
  BgpCheckInput input{"Europe", filter_of("communities-europe.txt"),
                      dump_of("bird-show-route-all.txt"), nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  const auto& west = check_for(*check, "12076:51002");
  ASSERT_TRUE(west.routes);
  EXPECT_TRUE(west.routes->known);
  EXPECT_EQ(west.routes->count, 4);  // 3 IPv4 + 1 IPv6
  const auto& north = check_for(*check, "12076:51003");
  EXPECT_EQ(north.state, CommunityState::allowed);
  EXPECT_EQ(north.routes->count, 0);
  EXPECT_EQ(check_for(*check, "12076:5060").routes->count, 4);
  EXPECT_TRUE(check->any_required_missing());

  const auto results = evaluate_bgp(input);
  const auto& r = result_for(results, "bgp:12076:51003");
  EXPECT_EQ(r.diagnosis, core::Diagnosis::bgp_routes_missing);
  EXPECT_EQ(r.status, core::Status::fail);
  EXPECT_EQ(r.message,
            "route filter rule 'community list' allows 12076:51003 (North Europe), but no route "
            "tagged with it arrives (bird-show-route-all.txt)");
  EXPECT_EQ(result_for(results, "bgp:12076:51002").fact_text("routes"), "4");
}

TEST(BgpCheck, RoutesCapturedFromFrrShowEveryEuropeCommunityArrives) {
  BgpCheckInput input{"Europe", filter_of("communities-europe.txt"),
                      dump_of("frr-show-bgp-ipv4-unicast-json-detail.json"), nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->any_required_missing());
  EXPECT_EQ(check_for(*check, "12076:51003").routes->count, 1);
  EXPECT_EQ(check_for(*check, "12076:51003").routes->example_prefix, "198.18.5.0/24");
  for (const auto& r : evaluate_bgp(input)) {
    EXPECT_EQ(r.status, core::Status::pass) << r.id << ": " << r.message;
  }
}

TEST(BgpCheck, ADumpWithoutCommunitiesLeavesArrivalUnknownAndSaysHowToCaptureIt) {
  BgpCheckInput input{"Europe", filter_of("communities-europe.txt"),
                      dump_of("frr-show-bgp-ipv4-unicast.json"), nullptr};
  auto check = check_bgp(input);
  ASSERT_TRUE(check);
  EXPECT_FALSE(check_for(*check, "12076:51003").routes->known);
  EXPECT_FALSE(check->any_required_missing());
  ASSERT_FALSE(check->notes.empty());
  EXPECT_NE(check->notes[0].find("show bgp ipv4 unicast json detail"), std::string::npos);
}

TEST(BgpCheck, AnUnverifiedRegionIsSkippedWithTheWordUnverified) {
  BgpCheckInput input{"Italy", list_filter("12076:5060"), std::nullopt, nullptr};
  const auto results = evaluate_bgp(input);
  const auto& italy = result_for(results, "bgp:italynorth");
  EXPECT_EQ(italy.status, core::Status::skip);
  EXPECT_NE(italy.message.find("UNVERIFIED"), std::string::npos);
  EXPECT_NE(italy.target.find("UNVERIFIED"), std::string::npos);
  EXPECT_EQ(italy.fact_text("unverified"), "true");
}

TEST(BgpCheck, AnUnknownGeographyIsOneFailedResult) {
  BgpCheckInput input{"Atlantis", list_filter("12076:5060"), std::nullopt, nullptr};
  const auto results = evaluate_bgp(input);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].diagnosis, core::Diagnosis::bgp_unknown_geography);
  EXPECT_EQ(results[0].status, core::Status::fail);
  EXPECT_NE(results[0].message.find("known: United States"), std::string::npos);
}

TEST(BgpCheck, FilesThatCannotBeParsedGiveOneErrorResultWithThePosition) {
  const auto results =
      evaluate_bgp_files("Europe", testing::testdata_path("communities-europe.txt"),
                         testing::testdata_path("az-route-filter-show.json"));  // not a route dump
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, core::Status::error);
  EXPECT_NE(results[0].message.find("az-route-filter-show.json:1:1: expected FRR"),
            std::string::npos)
      << results[0].message;
  const auto missing = evaluate_bgp_files("Europe", "/nonexistent/rf.json", "");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].message, "/nonexistent/rf.json: no such file");
}

TEST(BgpCheck, FilesAreEvaluatedEndToEnd) {
  const auto results =
      evaluate_bgp_files("Europe", testing::testdata_path("arm-template.json"),
                         testing::testdata_path("frr-show-ip-bgp-json-detail.json"));
  EXPECT_EQ(result_for(results, "bgp:12076:51002").status, core::Status::pass);
  EXPECT_EQ(result_for(results, "bgp:12076:51003").status, core::Status::pass);
  EXPECT_EQ(result_for(results, "bgp:12076:5060").diagnosis,
            core::Diagnosis::bgp_community_missing);
}

}  // namespace
}  // namespace gwprobe::rules::bgp
