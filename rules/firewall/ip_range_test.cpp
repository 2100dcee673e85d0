// Address arithmetic: parsing, prefixes, CIDR covers, merging and subtracting ranges.
#include "rules/firewall/ip_range.hpp"

#include <gtest/gtest.h>

namespace gwprobe::rules::firewall {
namespace {

IpRange range(const char* text) {
  auto r = parse_ip_range(text);
  EXPECT_TRUE(r) << text;
  return *r;
}

TEST(IpRange, ParsesAddressesPrefixesAndRangesOfBothFamilies) {
  EXPECT_EQ(range("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(range("10.1.2.3/8").to_string(), "10.0.0.0/8");  // host bits ignored
  EXPECT_EQ(range("192.0.2.7").to_string(), "192.0.2.7");
  EXPECT_EQ(range("2001:db8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(range("10.0.0.5-10.0.0.9").to_string(), "10.0.0.5-10.0.0.9");
  EXPECT_EQ(range("10.0.0.0-10.0.0.255").to_string(), "10.0.0.0/24");
  EXPECT_EQ(range("0.0.0.0/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(range("::/0").to_string(), "::/0");
}

TEST(IpRange, RejectsWhatIsNotAnAddress) {
  for (const char* bad : {"", "10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "host.example",
                          "10.0.0.9-10.0.0.1", "10.0.0.1-2001:db8::1", "10.0.0.0/", "10.0.0.0/x"}) {
    auto r = parse_ip_range(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("is not an address, CIDR prefix or range"), std::string::npos);
  }
}

TEST(IpRange, CoversARangeWithTheFewestCidrBlocks) {
  EXPECT_EQ(to_cidrs(range("10.0.0.1-10.0.0.6")),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6"}));
  EXPECT_EQ(to_cidrs(range("10.0.0.0-10.0.1.255")), (std::vector<std::string>{"10.0.0.0/23"}));
  EXPECT_EQ(to_cidrs(range("2001:db8::-2001:db8::3")),
            (std::vector<std::string>{"2001:db8::/126"}));
  EXPECT_EQ(to_cidrs(range("255.255.255.254-255.255.255.255")),
            (std::vector<std::string>{"255.255.255.254/31"}));
}

TEST(IpRange, MergesOverlappingAndAdjacentRangesPerFamily) {
  const auto merged =
      merge_ranges({range("10.0.1.0/24"), range("10.0.0.0/24"), range("10.0.0.128/25"),
                    range("2001:db8::/64"), range("10.0.3.0/24")});
  std::vector<std::string> texts;
  for (const auto& r : merged) texts.push_back(r.to_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"10.0.0.0/23", "10.0.3.0/24", "2001:db8::/64"}));
}

TEST(IpRange, SubtractsCoveredPartsAndKeepsTheGaps) {
  const auto gaps = subtract_ranges(
      range("10.0.0.0/24"), {range("10.0.0.0/26"), range("10.0.0.128/26"), range("2001:db8::/32")});
  std::vector<std::string> texts;
  for (const auto& r : gaps) texts.push_back(r.to_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"10.0.0.64/26", "10.0.0.192/26"}));
  EXPECT_TRUE(subtract_ranges(range("10.0.0.0/24"), {range("10.0.0.0/8")}).empty());
  EXPECT_EQ(subtract_ranges(range("10.0.0.0/24"), {}).size(), 1u);
  EXPECT_TRUE(subtract_ranges(range("255.255.255.0/24"), {range("255.255.255.0/24")}).empty());
}

TEST(IpAddress, StepsToTheNextAddressAndStopsAtTheEnd) {
  EXPECT_EQ(IpAddress::parse("10.0.0.255")->next()->to_string(), "10.0.1.0");
  EXPECT_FALSE(IpAddress::parse("255.255.255.255")->next());
  EXPECT_EQ(IpAddress::parse("::ffff:ffff:ffff:ffff")->next()->to_string(), "0:0:0:1::");
  EXPECT_LT(*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"));
}

}  // namespace
}  // namespace gwprobe::rules::firewall
