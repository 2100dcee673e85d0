// Community parsing: the spellings az, FRR and BIRD print, and what is rejected.
#include "rules/bgp/community.hpp"

#include <gtest/gtest.h>

namespace gwprobe::rules::bgp {
namespace {

TEST(Community, ParsesTheColonFormOfAzAndFrr) {
  auto c = parse_community("12076:51004");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->asn, 12076);
  EXPECT_EQ(c->value, 51004);
  EXPECT_EQ(c->to_string(), "12076:51004");
}

TEST(Community, ParsesTheParenthesisedFormOfBird) {
  auto c = parse_community("(12076, 5060)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->to_string(), "12076:5060");
}

TEST(Community, AcceptsTheFullSixteenBitRangeAndSurroundingSpaces) {
  auto c = parse_community("  0:65535 ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "0:65535");
}

TEST(Community, RejectsAnythingThatIsNotTwoSixteenBitNumbers) {
  for (const char* bad : {"", "12076", "12076:", ":1", "12076:65536", "65536:1", "a:b",
                          "12076:51004:1", "(12076,1,2)", "12076 51004", "-1:5", "12076:0x10"}) {
    auto c = parse_community(bad);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().kind, core::FailureKind::invalid_input);
    EXPECT_NE(c.error().message.find("is not a BGP community"), std::string::npos) << bad;
  }
}

TEST(Community, OrdersByAsnThenValue) {
  EXPECT_LT((Community{12076, 5060}), (Community{12076, 51002}));
  EXPECT_LT((Community{100, 60000}), (Community{12076, 1}));
  EXPECT_EQ((Community{12076, 5060}), (Community{12076, 5060}));
}

}  // namespace
}  // namespace gwprobe::rules::bgp
