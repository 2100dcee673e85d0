#include "probes/ip_address.hpp"

#include <gtest/gtest.h>

namespace gwprobe::probes {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndPrintsThemBack) {
  const auto v4 = IpAddress::parse("10.1.2.3");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->is_v6());
  EXPECT_EQ(v4->to_string(), "10.1.2.3");
  EXPECT_EQ(v4->with_port(443), "10.1.2.3:443");
  const auto v6 = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
  EXPECT_EQ(v6->with_port(53), "[2001:db8::1]:53");
}

TEST(IpAddress, RejectsNamesPortsBracketsAndEmptyText) {
  for (const char* text : {"", "example.com", "10.0.0.1:53", "[::1]", "10.0.0", "1.2.3.256"}) {
    EXPECT_FALSE(IpAddress::parse(text)) << text;
  }
}

TEST(IpAddress, RoundTripsThroughSockaddr) {
  for (const char* text : {"192.0.2.7", "2001:db8::7"}) {
    const auto address = IpAddress::parse(text);
    ASSERT_TRUE(address);
    sockaddr_storage storage{};
    const socklen_t length = address->to_sockaddr(8443, storage);
    EXPECT_EQ(length, address->is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    const auto back = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, *address);
  }
  sockaddr unix_family{};
  unix_family.sa_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::from_sockaddr(&unix_family));
  EXPECT_FALSE(IpAddress::from_sockaddr(nullptr));
}

struct RangeCase {
  const char* address;
  const char* range;  ///< "" = public
};

class SpecialRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(SpecialRange, NamesTheRangeOrNothingForPublicAddresses) {
  const auto address = IpAddress::parse(GetParam().address);
  ASSERT_TRUE(address) << GetParam().address;
  EXPECT_EQ(special_range(*address), GetParam().range) << GetParam().address;
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecialRange,
    ::testing::Values(
        RangeCase{"10.0.0.1", "RFC 1918 private"}, RangeCase{"10.255.255.255", "RFC 1918 private"},
        RangeCase{"172.16.0.1", "RFC 1918 private"},
        RangeCase{"172.31.255.254", "RFC 1918 private"}, RangeCase{"172.15.255.255", ""},
        RangeCase{"172.32.0.1", ""}, RangeCase{"192.168.1.1", "RFC 1918 private"},
        RangeCase{"192.169.0.1", ""}, RangeCase{"100.64.0.1", "CGNAT 100.64.0.0/10"},
        RangeCase{"100.127.255.255", "CGNAT 100.64.0.0/10"}, RangeCase{"100.63.255.255", ""},
        RangeCase{"100.128.0.0", ""}, RangeCase{"127.0.0.1", "loopback"},
        RangeCase{"127.53.0.9", "loopback"}, RangeCase{"169.254.169.254", "link-local"},
        RangeCase{"0.0.0.0", "unspecified: a sinkhole"}, RangeCase{"40.112.1.1", ""},
        RangeCase{"13.107.4.50", ""}, RangeCase{"::", "unspecified: a sinkhole"},
        RangeCase{"::1", "loopback"}, RangeCase{"fc00::1", "unique local fc00::/7"},
        RangeCase{"fd12:3456::1", "unique local fc00::/7"}, RangeCase{"fe80::1", "link-local"},
        RangeCase{"febf::1", "link-local"}, RangeCase{"fec0::1", ""}, RangeCase{"2603:1030::5", ""},
        RangeCase{"::ffff:10.0.0.1", "RFC 1918 private"}, RangeCase{"::ffff:40.1.2.3", ""}));

}  // namespace
}  // namespace gwprobe::probes
