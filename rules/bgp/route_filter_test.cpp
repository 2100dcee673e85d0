// Route filters in every shape users have: az, ARM, templates, PowerShell, plain lists.
#include "rules/bgp/route_filter.hpp"

#include <gtest/gtest.h>

#include "rules/bgp/testdata_path.hpp"

namespace gwprobe::rules::bgp {
namespace {

using testing::testdata;

std::vector<std::string> texts(const std::vector<Community>& communities) {
  std::vector<std::string> out;
  for (const auto& c : communities) out.push_back(c.to_string());
  return out;
}

TEST(RouteFilter, ReadsAzRouteFilterShowOutput) {
  auto filter = parse_route_filter(testdata("az-route-filter-show.json"));
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->name, "rf-powerplatform");
  EXPECT_EQ(filter->format, "azure-json");
  ASSERT_EQ(filter->rules.size(), 1u);
  EXPECT_EQ(filter->rules[0].name, "allow-powerplatform");
  EXPECT_EQ(filter->rules[0].access, FilterAccess::allow);
  EXPECT_EQ(texts(filter->rules[0].communities),
            (std::vector<std::string>{"12076:51002", "12076:5060", "12076:51004"}));
  EXPECT_EQ(filter->rules[0].where, "az-route-filter-show.json:11:5");
}

TEST(RouteFilter, ReadsTheArmResourceShapeWithAllowAndDenyRules) {
  auto filter = parse_route_filter(testdata("arm-route-filter.json"));
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->name, "filterName");
  ASSERT_EQ(filter->rules.size(), 2u);
  EXPECT_EQ(filter->rules[1].name, "deny-north-europe");
  EXPECT_EQ(filter->rules[1].access, FilterAccess::deny);
  EXPECT_EQ(texts(filter->rules[1].communities), (std::vector<std::string>{"12076:51003"}));
}

TEST(RouteFilter, ReadsArmTemplatesWithFilterAndChildRuleResources) {
  auto filter = parse_route_filter(testdata("arm-template.json"));
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->name, "rf-powerplatform");
  ASSERT_EQ(filter->rules.size(), 2u);
  EXPECT_EQ(filter->rules[0].name, "allow-west-europe");
  EXPECT_EQ(filter->rules[1].name, "rf-powerplatform/allow-north-europe");
  EXPECT_EQ(texts(filter->rules[1].communities), (std::vector<std::string>{"12076:51003"}));
}

TEST(RouteFilter, ReadsAzRuleListArraysAndSingleRules) {
  auto list = parse_route_filter(SourceText{
      "rules.json",
      R"([{"access":"Allow","communities":["12076:51002"],"name":"a","routeFilterRuleType":"Community"},
          {"access":"Deny","communities":["12076:5010"],"name":"b"}])"});
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->rules.size(), 2u);
  EXPECT_EQ(list->rules[1].access, FilterAccess::deny);
  auto single = parse_route_filter(
      SourceText{"rule.json", R"({"access":"Allow","communities":["12076:51003"],"name":"one"})"});
  ASSERT_TRUE(single) << single.error().message;
  ASSERT_EQ(single->rules.size(), 1u);
  EXPECT_EQ(single->rules[0].name, "one");
}

TEST(RouteFilter, ReadsPowerShellPascalCaseJson) {
  auto filter = parse_route_filter(
      SourceText{"ps.json", R"({"Name":"rf","Rules":[{"Name":"r1","Access":"Allow",
        "RouteFilterRuleType":"Community","Communities":["12076:51002","12076:51003"]}]})"});
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->name, "rf");
  ASSERT_EQ(filter->rules.size(), 1u);
  EXPECT_EQ(filter->rules[0].communities.size(), 2u);
}

TEST(RouteFilter, AFilterWithoutRulesAllowsNothing) {
  auto filter = parse_route_filter(SourceText{"empty.json", R"({"name":"rf","rules":[]})"});
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_TRUE(filter->rules.empty());
}

TEST(RouteFilter, ReadsPlainCommunityListsWithCommentsAndCommas) {
  auto filter = parse_route_filter(testdata("communities-europe.txt"));
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->format, "community-list");
  ASSERT_EQ(filter->rules.size(), 1u);
  EXPECT_EQ(texts(filter->rules[0].communities),
            (std::vector<std::string>{"12076:51002", "12076:51003", "12076:5060", "12076:5010"}));
}

struct BadFilter {
  const char* label;
  const char* text;
  const char* message;
};

class RouteFilterRejects : public ::testing::TestWithParam<BadFilter> {};

TEST_P(RouteFilterRejects, WithFileLineColumnAndWhatWasExpected) {
  const auto& p = GetParam();
  auto filter = parse_route_filter(SourceText{"rf", p.text});
  ASSERT_FALSE(filter) << p.label;
  EXPECT_EQ(filter.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(filter.error().message, p.message) << p.label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouteFilterRejects,
    ::testing::Values(
        BadFilter{"word in a list", "12076:51002\n  West-Europe\n",
                  "rf:2:3: 'West-Europe' is not a BGP community (expected ASN:value with both "
                  "parts 0-65535, e.g. 12076:51004)"},
        BadFilter{"out of range in a list", "12076:510020",
                  "rf:1:1: '12076:510020' is not a BGP community (expected ASN:value with both "
                  "parts 0-65535, e.g. 12076:51004)"},
        BadFilter{"broken json", "{\"rules\": [\n",
                  "rf:2:1: invalid JSON: syntax error while "
                  "parsing value - unexpected end of input; "
                  "expected '[', '{', or a literal"},
        BadFilter{"not a filter", "{\"name\": \"x\"}",
                  "rf:1:1: expected an Azure route filter (an object with \"rules\", "
                  "\"properties.rules\" or ARM \"resources\"), a route filter rule or an array "
                  "of rules"},
        BadFilter{"no access", "{\"rules\": [{\"communities\": []}]}",
                  "rf:1:12: route filter rule without \"access\" (Allow or Deny)"},
        BadFilter{"bad access", "{\"rules\": [{\"access\": \"Permit\", \"communities\": []}]}",
                  "rf:1:23: expected \"access\": \"Allow\" or \"Deny\", got \"Permit\""},
        BadFilter{"bad community in json",
                  "{\"rules\": [{\"access\": \"Allow\",\n \"communities\": [\"12076:5060\", "
                  "\"westeurope\"]}]}",
                  "rf:2:32: 'westeurope' is not a BGP community (expected ASN:value with both "
                  "parts 0-65535, e.g. 12076:51004)"},
        BadFilter{"template expression",
                  "{\"rules\": [{\"access\": \"Allow\", \"communities\": "
                  "[\"[parameters('c')]\"]}]}",
                  "rf:1:48: ARM template expression \"[parameters('c')]\" cannot be evaluated; "
                  "give the output of `az network route-filter show` instead"},
        BadFilter{"wrong rule type",
                  "{\"rules\": [{\"access\": \"Allow\", \"routeFilterRuleType\": \"Prefix\", "
                  "\"communities\": []}]}",
                  "rf:1:55: expected \"routeFilterRuleType\": \"Community\", got \"Prefix\""},
        BadFilter{"communities not an array",
                  "{\"rules\": [{\"access\": \"Allow\", \"communities\": \"12076:5060\"}]}",
                  "rf:1:47: expected \"communities\": an array of \"ASN:value\" strings"}));

}  // namespace
}  // namespace gwprobe::rules::bgp
