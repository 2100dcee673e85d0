#include "probes/capture/capture_filter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "probes/capture/pcap_handle.hpp"

namespace gwprobe::probes::capture {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

IpAddress ip(std::string_view text) {
  return *IpAddress::parse(text);
}

TEST(CaptureFilter, GroupsPortsPerAddressAndAddsResolversAndIcmpErrors) {
  const std::vector<FilterTarget> targets = {{ip("10.0.0.2"), 443},
                                             {ip("10.0.0.2"), 5671},
                                             {ip("2001:db8::2"), 443},
                                             {std::nullopt, 9350},
                                             {ip("10.0.0.2"), 443}};
  const std::vector<Endpoint> resolvers = {{ip("10.0.0.53"), 53}};
  const auto f = capture_filter(targets, resolvers);
  EXPECT_THAT(f, StartsWith("(tcp and ((host 10.0.0.2 and (port 443 or port 5671)) or "
                            "(host 2001:db8::2 and port 443) or port 9350)) or "
                            "((udp or tcp) and ((host 10.0.0.53 and port 53))) or (icmp and "));
  EXPECT_THAT(f, HasSubstr("icmp[icmptype] == icmp-unreach"));
  EXPECT_THAT(f, HasSubstr("icmp6[icmp6type] >= 1 and icmp6[icmp6type] <= 4"));
}

TEST(CaptureFilter, CompilesOnEveryLinkTypeTheSessionMayOpen) {
  const std::vector<FilterTarget> targets = {
      {ip("127.0.0.1"), 443}, {ip("::1"), 8443}, {std::nullopt, 9350}};
  const std::vector<Endpoint> resolvers = {{ip("::1"), 5353}};
  for (auto link : {LinkType::ethernet, LinkType::linux_sll, LinkType::linux_sll2, LinkType::raw_ip,
                    LinkType::null_loopback}) {
    auto dead = PcapHandle::open_dead(dlt_of(link), 65535);
    ASSERT_TRUE(dead);
    auto compiled = dead->check_filter(capture_filter(targets, resolvers));
    EXPECT_TRUE(compiled) << to_string(link) << ": " << compiled.error().describe();
    EXPECT_TRUE(dead->check_filter(capture_filter({}, {}))) << to_string(link);
  }
}

}  // namespace
}  // namespace gwprobe::probes::capture
