// The shipped ExpressRoute data and the catalog parser's checks.
#include "rules/bgp/catalog.hpp"

#include <gtest/gtest.h>

#include <set>

namespace gwprobe::rules::bgp {
namespace {

TEST(ShippedCatalog, HasAllFortyTwoPublicRegionsOfTheCommunityTableWithTheirSource) {
  const auto& catalog = shipped_catalog();
  int verified_public = 0;
  std::set<Community> seen;
  for (const auto& region : catalog.regions) {
    EXPECT_FALSE(region.source.empty()) << region.name;
    if (region.cloud == "public" && !region.unverified) {
      ++verified_public;
      ASSERT_TRUE(region.community) << region.name;
      EXPECT_EQ(region.community->asn, kMicrosoftAsn);
      EXPECT_GE(region.community->value, 51000) << region.name;
      EXPECT_LT(region.community->value, 52000) << region.name;
    }
    if (region.community) {
      EXPECT_TRUE(seen.insert(*region.community).second) << "duplicate " << region.name;
    }
  }
  EXPECT_EQ(verified_public, 42);
  EXPECT_EQ(catalog.region_by_azure_name("westeurope")->community->to_string(), "12076:51002");
  EXPECT_EQ(catalog.region_by_azure_name("northeurope")->community->to_string(), "12076:51003");
  EXPECT_EQ(catalog.region_by_azure_name("westus2")->community->to_string(), "12076:51026");
  EXPECT_EQ(catalog.region_by_azure_name("newzealandnorth")->community->to_string(), "12076:51059");
}

TEST(ShippedCatalog, HasTheNationalCloudRegions) {
  const auto& catalog = shipped_catalog();
  EXPECT_EQ(catalog.region_by_azure_name("usgovvirginia")->community->to_string(), "12076:51105");
  EXPECT_EQ(catalog.region_by_azure_name("usgovvirginia")->cloud, "usgov");
  EXPECT_EQ(catalog.region_by_azure_name("usdodeast")->community->to_string(), "12076:51205");
  EXPECT_EQ(catalog.region_by_azure_name("chinanorth3")->community->to_string(), "12076:51305");
  EXPECT_EQ(catalog.region_by_azure_name("chinanorth3")->cloud, "china");
}

TEST(ShippedCatalog, MarksRegionsMissingFromTheTableAsUnverifiedWithoutAValue) {
  const auto& catalog = shipped_catalog();
  for (const char* name : {"swedencentral", "italynorth", "polandcentral", "qatarcentral",
                           "israelcentral", "spaincentral", "mexicocentral"}) {
    const auto* region = catalog.region_by_azure_name(name);
    ASSERT_NE(region, nullptr) << name;
    EXPECT_TRUE(region->unverified) << name;
    EXPECT_FALSE(region->community) << name;
  }
}

TEST(ShippedCatalog, KnowsEntraIdsServiceCommunityAndMarksItForSignIn) {
  const auto& catalog = shipped_catalog();
  const auto* entra = catalog.service_by_community(Community{12076, 5060});
  ASSERT_NE(entra, nullptr);
  EXPECT_EQ(entra->name, "Microsoft Entra ID");
  EXPECT_EQ(entra->source, "S7");
  EXPECT_FALSE(entra->gateway_role.empty());
  const auto* other365 = catalog.service_by_community(Community{12076, 5100});
  ASSERT_NE(other365, nullptr);
  EXPECT_TRUE(other365->microsoft_365);
  EXPECT_TRUE(other365->needs_authorization);
}

TEST(ShippedCatalog, FindsGeographiesByNameOrAliasIgnoringCaseAndSpacing) {
  const auto& catalog = shipped_catalog();
  EXPECT_EQ(catalog.find_geography("Europe")->name, "Europe");
  EXPECT_EQ(catalog.find_geography("europe")->name, "Europe");
  EXPECT_EQ(catalog.find_geography("US")->name, "United States");
  EXPECT_EQ(catalog.find_geography("united-states")->name, "United States");
  EXPECT_EQ(catalog.find_geography("United Kingdom")->name, "UK");
  EXPECT_EQ(catalog.find_geography("south korea")->name, "Korea");
  EXPECT_EQ(catalog.find_geography("Atlantis"), nullptr);
  EXPECT_EQ(catalog.find_geography(""), nullptr);
}

TEST(ShippedCatalog, PairsEveryGeographyAsS9Does) {
  const auto& catalog = shipped_catalog();
  EXPECT_EQ(catalog.geographies.size(), 19u);
  EXPECT_EQ(catalog.find_geography("United States")->regions,
            (std::vector<std::string>{"eastus", "westus"}));
  EXPECT_EQ(catalog.find_geography("India")->regions,
            (std::vector<std::string>{"centralindia", "southindia"}));
  EXPECT_EQ(catalog.find_geography("Singapore")->regions,
            (std::vector<std::string>{"southeastasia"}));
  for (const auto& geography : catalog.geographies) {
    EXPECT_EQ(geography.source, "S9") << geography.name;
    EXPECT_TRUE(geography.communities_derived) << geography.name;
  }
  EXPECT_EQ(catalog.rule_source, "S8");
  EXPECT_NE(catalog.rule_text.find("two regional BGP communities"), std::string::npos);
}

struct BrokenCatalog {
  const char* label;
  const char* json;
  const char* message;
};

class CatalogRejects : public ::testing::TestWithParam<BrokenCatalog> {};

TEST_P(CatalogRejects, WithThePositionAndWhatWasExpected) {
  const auto& p = GetParam();
  auto parsed = parse_catalog(SourceText{"cat.json", p.json});
  ASSERT_FALSE(parsed) << p.label;
  EXPECT_EQ(parsed.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(parsed.error().message, p.message) << p.label;
}

constexpr const char* kHead = R"({"sources":{"S7":"doc"},"rule":{"text":"t","source":"S7"},)";

INSTANTIATE_TEST_SUITE_P(
    Table, CatalogRejects,
    ::testing::Values(
        BrokenCatalog{"syntax", "{\"sources\": }",
                      "cat.json:1:13: invalid JSON: syntax error while parsing value - unexpected "
                      "'}'; expected '[', '{', or a literal"},
        BrokenCatalog{"no sources", "{}",
                      "cat.json:1:1: expected \"sources\": an object of source id -> document"},
        BrokenCatalog{
            "unknown source",
            "{\"sources\":{\"S7\":\"doc\"},\n\"rule\":{\"text\":\"t\",\"source\":\"S99\"}}",
            "cat.json:2:29: unknown source id \"S99\" (not in \"sources\")"},
        BrokenCatalog{"bad community",
                      "{\"sources\":{\"S7\":\"doc\"},\"rule\":{\"text\":\"t\",\"source\":\"S7\"},\n"
                      "\"regions\":[{\"name\":\"A\",\"azure_name\":\"a\",\"cloud\":\"public\","
                      "\"source\":\"S7\",\"community\":\"12076:99999\"}]}",
                      "cat.json:2:84: '12076:99999' is not a BGP community (expected ASN:value "
                      "with both parts 0-65535, e.g. 12076:51004)"},
        BrokenCatalog{"no community and not unverified",
                      "{\"sources\":{\"S7\":\"doc\"},\"rule\":{\"text\":\"t\",\"source\":\"S7\"},"
                      "\"regions\":[{\"name\":\"A\",\"azure_name\":\"a\",\"cloud\":\"public\","
                      "\"source\":\"S7\"}]}",
                      "cat.json:1:70: a region without a community must be marked "
                      "\"unverified\": true"},
        BrokenCatalog{"geography with an undefined region",
                      "{\"sources\":{\"S7\":\"doc\"},\"rule\":{\"text\":\"t\",\"source\":\"S7\"},"
                      "\"regions\":[],\"services\":[],\"geographies\":[{\"name\":\"G\","
                      "\"source\":\"S7\",\"regions\":[\"nowhere\"]}]}",
                      "cat.json:1:138: region \"nowhere\" is not in \"regions\""}));

TEST(Catalog, ParsesAMinimalValidDocument) {
  const std::string text = std::string(kHead) +
                           R"("regions":[{"name":"A","azure_name":"a","cloud":"public",)"
                           R"("source":"S7","community":"12076:51001"}],"services":[],)"
                           R"("geographies":[{"name":"G","source":"S7","regions":["a"]}]})";
  auto parsed = parse_catalog(SourceText{"cat.json", text});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->find_geography("g")->regions.front(), "a");
  EXPECT_EQ(parsed->describe_source("S7"), "S7: doc");
}

}  // namespace
}  // namespace gwprobe::rules::bgp
