// Route dumps captured from real BIRD and FRR daemons (scripts/capture-bgp-dumps.sh).
#include "rules/bgp/route_dump.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "rules/bgp/testdata_path.hpp"

namespace gwprobe::rules::bgp {
namespace {

using testing::testdata;

// prefix -> communities, so assertions read like the dump.
std::map<std::string, std::vector<std::string>> by_prefix(const RouteDump& dump) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& route : dump.routes) {
    auto& list = out[route.prefix];
    for (const auto& c : route.communities) list.push_back(c.to_string());
    std::sort(list.begin(), list.end());
  }
  return out;
}

TEST(BirdRouteDump, ReadsEveryRouteOfBothTablesWithItsCommunities) {
  auto dump = parse_route_dump(testdata("bird-show-route-all.txt"));
  ASSERT_TRUE(dump) << dump.error().message;
  EXPECT_EQ(dump->format, "bird");
  EXPECT_TRUE(dump->has_communities);
  ASSERT_EQ(dump->routes.size(), 9u);
  const auto routes = by_prefix(*dump);
  EXPECT_EQ(routes.at("198.18.2.0/24"), (std::vector<std::string>{"12076:51002"}));
  EXPECT_EQ(routes.at("198.18.4.0/25"), (std::vector<std::string>{"12076:5060", "12076:51002"}));
  EXPECT_EQ(routes.at("198.18.10.0/24"), (std::vector<std::string>{"12076:51004"}));
  EXPECT_TRUE(routes.at("198.18.99.0/24").empty());
  EXPECT_EQ(routes.at("2001:db8:5102::/48"), (std::vector<std::string>{"12076:51002"}));
  EXPECT_EQ(routes.count("198.18.5.0/24"), 0u);  // North Europe was not exported to BIRD
  for (const auto& route : dump->routes) EXPECT_TRUE(route.best) << route.prefix;
}

TEST(BirdRouteDump, DoesNotMistakeALargeCommunityForAStandardOne) {
  auto dump = parse_route_dump(testdata("bird-show-route-all.txt"));
  ASSERT_TRUE(dump);
  // 198.18.61.0/24 carries the large community (12076, 51003, 1): not 12076:51003.
  EXPECT_EQ(by_prefix(*dump).at("198.18.61.0/24"), (std::vector<std::string>{"12076:5060"}));
}

TEST(BirdRouteDump, ReadsAlternativePathsOfOnePrefix) {
  const std::string text =
      "Table master4:\n"
      "10.0.0.0/8           unicast [a 10:00:00] * (100) [AS12076i]\n"
      "\tvia 192.0.2.1 on eth0\n"
      "\tType: BGP univ\n"
      "\tBGP.community: (12076,51002)\n"
      "                     unicast [b 10:00:01] (100) [AS12076i]\n"
      "\tvia 192.0.2.2 on eth1\n"
      "\tType: BGP univ\n"
      "\tBGP.community: (12076,51003)\n";
  auto dump = parse_route_dump(SourceText{"two.txt", text});
  ASSERT_TRUE(dump) << dump.error().message;
  ASSERT_EQ(dump->routes.size(), 2u);
  EXPECT_TRUE(dump->routes[0].best);
  EXPECT_FALSE(dump->routes[1].best);
  EXPECT_EQ(dump->routes[1].prefix, "10.0.0.0/8");
  EXPECT_EQ(dump->routes[1].communities.at(0).to_string(), "12076:51003");
  EXPECT_EQ(dump->routes[1].where, "two.txt:6:1");
}

TEST(BirdRouteDump, ShowRouteWithoutAllIsFlaggedAsHavingNoCommunities) {
  const std::string text =
      "BIRD 2.0.12 ready.\nTable master4:\n"
      "198.18.2.0/24        unicast [msee 04:54:29.402] * (100) [AS12076i]\n"
      "\tvia 10.239.1.1 on bgpfwb0\n";
  auto dump = parse_route_dump(SourceText{"short.txt", text});
  ASSERT_TRUE(dump) << dump.error().message;
  EXPECT_FALSE(dump->has_communities);
  EXPECT_EQ(dump->how_to_get_communities, "birdc show route all");
}

TEST(FrrRouteDump, ReadsJsonDetailWithCommunities) {
  auto dump = parse_route_dump(testdata("frr-show-bgp-ipv4-unicast-json-detail.json"));
  ASSERT_TRUE(dump) << dump.error().message;
  EXPECT_EQ(dump->format, "frr-json");
  EXPECT_TRUE(dump->has_communities);
  ASSERT_EQ(dump->routes.size(), 8u);
  const auto routes = by_prefix(*dump);
  EXPECT_EQ(routes.at("198.18.5.0/24"), (std::vector<std::string>{"12076:51003"}));
  EXPECT_EQ(routes.at("198.18.4.0/25"), (std::vector<std::string>{"12076:5060", "12076:51002"}));
  EXPECT_EQ(routes.at("198.18.61.0/24"), (std::vector<std::string>{"12076:5060"}));
  EXPECT_TRUE(routes.at("198.18.99.0/24").empty());
  for (const auto& route : dump->routes) EXPECT_TRUE(route.best) << route.prefix;
}

TEST(FrrRouteDump, ShowIpBgpJsonDetailReadsTheSame) {
  auto a = parse_route_dump(testdata("frr-show-bgp-ipv4-unicast-json-detail.json"));
  auto b = parse_route_dump(testdata("frr-show-ip-bgp-json-detail.json"));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(by_prefix(*a), by_prefix(*b));
}

TEST(FrrRouteDump, ReadsIpv6Tables) {
  auto dump = parse_route_dump(testdata("frr-show-bgp-ipv6-unicast-json-detail.json"));
  ASSERT_TRUE(dump) << dump.error().message;
  const auto routes = by_prefix(*dump);
  EXPECT_EQ(routes.at("2001:db8:5060::/48"), (std::vector<std::string>{"12076:5060"}));
  EXPECT_EQ(routes.at("2001:db8:5102::/48"), (std::vector<std::string>{"12076:51002"}));
}

TEST(FrrRouteDump, ReadsTheSinglePrefixView) {
  auto dump = parse_route_dump(testdata("frr-show-bgp-ipv4-unicast-prefix.json"));
  ASSERT_TRUE(dump) << dump.error().message;
  ASSERT_EQ(dump->routes.size(), 1u);
  EXPECT_EQ(dump->routes[0].prefix, "198.18.4.0/25");
  EXPECT_TRUE(dump->has_communities);
  EXPECT_EQ(dump->routes[0].communities.size(), 2u);
}

TEST(FrrRouteDump, TableJsonWithoutDetailIsFlaggedAsHavingNoCommunities) {
  auto dump = parse_route_dump(testdata("frr-show-bgp-ipv4-unicast.json"));
  ASSERT_TRUE(dump) << dump.error().message;
  EXPECT_EQ(dump->routes.size(), 8u);
  EXPECT_FALSE(dump->has_communities);
  EXPECT_NE(dump->how_to_get_communities.find("json detail"), std::string::npos);
}

TEST(FrrRouteDump, ReadsTheLaterPathsObjectLayoutAndSkipsWellKnownNames) {
  const std::string text = R"({"routes":{"10.1.0.0/16":{"prefix":"10.1.0.0/16","paths":[
      {"aspath":{"string":"12076"},"valid":true,"bestpath":{"overall":true},
       "community":{"string":"no-export 12076:51002","list":["no-export","12076:51002"]}}]}}})";
  auto dump = parse_route_dump(SourceText{"new.json", text});
  ASSERT_TRUE(dump) << dump.error().message;
  ASSERT_EQ(dump->routes.size(), 1u);
  EXPECT_TRUE(dump->routes[0].best);
  ASSERT_EQ(dump->routes[0].communities.size(), 1u);
  EXPECT_EQ(dump->routes[0].communities[0].to_string(), "12076:51002");
}

struct BadDump {
  const char* label;
  const char* text;
  const char* message;
};

class RouteDumpRejects : public ::testing::TestWithParam<BadDump> {};

TEST_P(RouteDumpRejects, WithFileLineColumn) {
  const auto& p = GetParam();
  auto dump = parse_route_dump(SourceText{"dump", p.text});
  ASSERT_FALSE(dump) << p.label;
  EXPECT_EQ(dump.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(dump.error().message, p.message) << p.label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouteDumpRejects,
    ::testing::Values(
        BadDump{"random text", "hello world\n",
                "dump:1:1: expected a route line (\"PREFIX  unicast [...]\") of BIRD `show route "
                "all`, got \"hello world\""},
        BadDump{"empty", "",
                "dump:1:1: neither BIRD `show route all` output (no \"Table ...:\" line) nor FRR "
                "JSON"},
        BadDump{"bad bird community",
                "Table master4:\n10.0.0.0/8  unicast [a] * (100)\n\tBGP.community: (12076,x)\n",
                "dump:3:17: '(12076,x)' is not a BGP community (expected ASN:value with both "
                "parts 0-65535, e.g. 12076:51004)"},
        BadDump{"json without routes", "{\"vrfId\": 0}",
                "dump:1:1: expected FRR `show bgp ... json` output (an object with \"routes\", "
                "or \"prefix\" and \"paths\")"},
        BadDump{"routes not an object", "{\"routes\": [1]}",
                "dump:1:12: expected \"routes\": an object of prefix -> paths"},
        BadDump{"bad frr community",
                "{\"routes\":{\"10.0.0.0/8\":[{\"valid\":true,\"community\":{\"list\":"
                "[\"12076:99999\"]}}]}}",
                "dump:1:52: '12076:99999' is not a BGP community (expected ASN:value with both "
                "parts 0-65535, e.g. 12076:51004)"}));

}  // namespace
}  // namespace gwprobe::rules::bgp
