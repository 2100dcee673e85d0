// Service tags: the gateway's tags per region, host ranges, allowlist coverage, bad files.
#include "rules/firewall/service_tags.hpp"

#include <gtest/gtest.h>

#include "rules/firewall/testdata_path.hpp"

namespace gwprobe::rules::firewall {
namespace {

using testing::testdata;

ServiceTags sample() {
  auto tags = parse_service_tags(testdata("service-tags-sample.json"));
  EXPECT_TRUE(tags) << tags.error().message;
  return tags ? *tags : ServiceTags{};
}

std::vector<std::string> names(const std::vector<NeededTag>& tags) {
  std::vector<std::string> out;
  for (const auto& t : tags) out.push_back(t.name + (t.entry ? "" : " (missing)"));
  return out;
}

TEST(ServiceTags, ParsesTheDownloadShape) {
  const auto tags = sample();
  EXPECT_EQ(tags.change_number, 42);
  EXPECT_EQ(tags.cloud, "Public");
  ASSERT_EQ(tags.tags.size(), 8u);
  const auto* bus = tags.find("servicebus.westeurope");
  ASSERT_NE(bus, nullptr);
  EXPECT_EQ(bus->region, "westeurope");
  EXPECT_EQ(bus->prefixes.at(0).to_string(), "198.51.100.0/26");
}

TEST(ServiceTags, TheGatewayNeedsFourTagsRegionalOnesPerRegion) {
  const auto tags = sample();
  EXPECT_EQ(names(needed_tags(tags, {"westeurope"})),
            (std::vector<std::string>{"ServiceBus.WestEurope", "AzureCloud.westeurope", "PowerBI",
                                      "AzureActiveDirectory"}));
  EXPECT_EQ(
      names(needed_tags(tags, {})),
      (std::vector<std::string>{"ServiceBus", "AzureCloud", "PowerBI", "AzureActiveDirectory"}));
}

TEST(ServiceTags, KnowsTheIrregularAzureCloudNames) {
  const auto tags = sample();
  EXPECT_EQ(
      names(needed_tags(tags, {"francecentral"})),
      (std::vector<std::string>{"ServiceBus.francecentral (missing)", "AzureCloud.centralfrance",
                                "PowerBI", "AzureActiveDirectory"}));
}

TEST(ServiceTags, GivesTheRelayHostTheServiceBusAndAzureCloudRangesOfTheRegion) {
  const auto tags = sample();
  const auto ranges = ranges_for_host(tags, "*.servicebus.windows.net", {"westeurope"});
  ASSERT_TRUE(ranges);
  std::vector<std::string> texts;
  for (const auto& r : ranges->ranges) texts.push_back(r.to_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"198.51.100.0/26", "203.0.113.0/25"}));
  EXPECT_NE(ranges->origin.find("ServiceBus.WestEurope, AzureCloud.westeurope"), std::string::npos);
  EXPECT_TRUE(ranges_for_host(tags, "login.microsoftonline.com", {}));
  EXPECT_TRUE(ranges_for_host(tags, "app.powerbi.com", {}));
  EXPECT_FALSE(ranges_for_host(tags, "download.microsoft.com", {}));
  EXPECT_FALSE(ranges_for_host(tags, "notpowerbi.com", {}));
}

TEST(ServiceTags, ListsThePrefixesAnAllowlistDoesNotCover) {
  const auto tags = sample();
  auto allowlist = parse_allowlist(testdata("allowlist-westeurope.txt"));
  ASSERT_TRUE(allowlist) << allowlist.error().message;
  EXPECT_EQ(allowlist->size(), 4u);
  const auto coverage = check_allowlist(tags, {"westeurope"}, *allowlist);
  ASSERT_EQ(coverage.size(), 4u);
  EXPECT_TRUE(coverage[0].uncovered.empty());  // ServiceBus.WestEurope
  EXPECT_TRUE(coverage[1].uncovered.empty());  // AzureCloud.westeurope
  EXPECT_TRUE(coverage[2].uncovered.empty());  // PowerBI
  EXPECT_EQ(coverage[3].uncovered, (std::vector<std::string>{"2001:db8:aad::/48"}));

  const auto global = check_allowlist(tags, {}, *allowlist);
  EXPECT_EQ(global[0].uncovered,
            (std::vector<std::string>{"198.51.100.64/26", "2001:db8:5b::/48"}));
  EXPECT_EQ(global[1].uncovered,
            (std::vector<std::string>{"192.0.2.128/25", "198.51.100.64/26", "198.51.100.128/25",
                                      "203.0.113.128/25"}));
}

struct BadTags {
  const char* label;
  const char* text;
  const char* message;
};

class ServiceTagsRejects : public ::testing::TestWithParam<BadTags> {};

TEST_P(ServiceTagsRejects, WithFileLineColumn) {
  const auto& p = GetParam();
  auto tags = parse_service_tags(bgp::SourceText{"tags.json", p.text});
  ASSERT_FALSE(tags) << p.label;
  EXPECT_EQ(tags.error().message, p.message) << p.label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ServiceTagsRejects,
    ::testing::Values(
        BadTags{"not tags", "[]",
                "tags.json:1:1: expected an Azure Service Tags file: {\"changeNumber\", \"cloud\", "
                "\"values\": [...]}"},
        BadTags{"no properties", "{\"values\": [{\"name\": \"X\"}]}",
                "tags.json:1:13: tag without \"properties\""},
        BadTags{"bad prefix",
                "{\"values\": [{\"name\": \"X\", \"properties\": {\n\"addressPrefixes\": "
                "[\"10.0.0.0/8\", \"10.0.0.0/99\"]}}]}",
                "tags.json:2:35: '10.0.0.0/99' is not an address, CIDR prefix or range (prefix "
                "length too long)"}));

TEST(Allowlist, RejectsWhatIsNotAnAddressWithItsPosition) {
  auto allowlist = parse_allowlist(bgp::SourceText{"allow.txt", "10.0.0.0/8\n  relay.example\n"});
  ASSERT_FALSE(allowlist);
  EXPECT_EQ(allowlist.error().message,
            "allow.txt:2:3: 'relay.example' is not an address, CIDR prefix or range (bad address)");
}

}  // namespace
}  // namespace gwprobe::rules::firewall
