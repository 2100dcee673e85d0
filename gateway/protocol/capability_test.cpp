// Capability ids: single use, expiry on an injected clock, purpose binding, forgery.
#include "gateway/protocol/capability.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {
namespace {

TEST(Capability, RedeemsOnceThenRefuses) {
  core::ManualClock clock;
  CapabilityIssuer issuer(clock);
  const auto id = issuer.issue(CapabilityPurpose::accept);
  EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::accept), CapabilityFault::none);
  EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::accept), CapabilityFault::already_used);
}

TEST(Capability, ExpiresAfterItsTtl) {
  core::ManualClock clock;
  CapabilityIssuer issuer(clock, std::chrono::seconds(30));
  const auto id = issuer.issue(CapabilityPurpose::accept);
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::accept), CapabilityFault::expired);
  const auto fresh = issuer.issue(CapabilityPurpose::accept);
  clock.advance(std::chrono::seconds(29));
  EXPECT_EQ(issuer.redeem(fresh, CapabilityPurpose::accept), CapabilityFault::none);
}

TEST(Capability, IsBoundToItsPurposeAndToThisIssuer) {
  core::ManualClock clock;
  CapabilityIssuer issuer(clock);
  CapabilityIssuer other(clock);
  const auto id = issuer.issue(CapabilityPurpose::accept);
  EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::request), CapabilityFault::forged);
  EXPECT_EQ(other.redeem(id, CapabilityPurpose::accept), CapabilityFault::forged);
  std::string tampered = id;
  tampered[0] = tampered[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(issuer.redeem(tampered, CapabilityPurpose::accept), CapabilityFault::forged);
  EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::accept), CapabilityFault::none);
}

TEST(Capability, RejectsMalformedIds) {
  core::ManualClock clock;
  CapabilityIssuer issuer(clock);
  for (const char* bad : {"", "abc", "a.b.c", "4cb542c3-047a-4d40-a19f-bdc66441e736"}) {
    EXPECT_EQ(issuer.redeem(bad, CapabilityPurpose::accept), CapabilityFault::malformed) << bad;
  }
}

TEST(Capability, IdsAreUniqueAndRedeemedOnesAreForgottenAfterExpiry) {
  core::ManualClock clock;
  CapabilityIssuer issuer(clock, std::chrono::seconds(1));
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(issuer.issue(CapabilityPurpose::request));
  EXPECT_EQ(ids.size(), 100u);
  for (const auto& id : ids)
    EXPECT_EQ(issuer.redeem(id, CapabilityPurpose::request), CapabilityFault::none);
  EXPECT_EQ(issuer.remembered(), 100u);
  clock.advance(std::chrono::seconds(2));
  const auto late = issuer.issue(CapabilityPurpose::request);
  EXPECT_EQ(issuer.redeem(late, CapabilityPurpose::request), CapabilityFault::none);
  EXPECT_EQ(issuer.remembered(), 1u);
}

TEST(Crypto, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    const auto decoded = base64_decode(base64_encode(s));
    ASSERT_TRUE(decoded) << s;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!="));
  EXPECT_FALSE(base64_decode("a=bc"));
  EXPECT_EQ(base64_encode(hmac_sha256("key", "The quick brown fox jumps over the lazy dog")),
            "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
}

TEST(Crypto, GuidsAreVersion4) {
  const auto g = random_guid();
  ASSERT_EQ(g.size(), 36u);
  EXPECT_EQ(g[14], '4');
  EXPECT_NE(random_guid(), g);
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
