// SAS tokens: known answers from the real hyco-ws code and a .NET-style encoder, and every
// rejection of the verifier.
#include "gateway/protocol/sas.hpp"

#include <gtest/gtest.h>

namespace gwprobe::gateway::protocol {
namespace {

constexpr const char* kKey = "unit-test-key-0123456789";
constexpr std::int64_t kSe = 3687483225;
constexpr std::int64_t kBefore = kSe - 100;

// Produced by hyco-ws 1.0.5's own WS.createRelayToken (Node 20): upper-case %XX, port kept.
constexpr const char* kHycoListenToken =
    "SharedAccessSignature sr=http%3A%2F%2F127.0.0.1%3A8443%2Fhyco&sig=Cggje3pEb49W6e2R2J3altF0"
    "BgCvP6W9wO%2BXIjyYV5w%3D&se=3687483225&skn=gateway";
constexpr const char* kHycoConnectToken =
    "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%3A443%2Fhyco%2Fsub&sig="
    "p%2Fl3WcTDPMB8oQjs%2FvDldZbcFWGItzmZqVbHq75ENU4%3D&se=3687483225&skn=client";
// The .NET SDK's shape: lower-case %xx, no port, trailing slash (computed independently).
constexpr const char* kDotnetToken =
    "SharedAccessSignature sr=http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f&sig=nZmC5Szi"
    "%2b8NDEFum310pZlsykvK2F%2fMWrh%2fZ5YBajPw%3d&se=3687483225&skn=gateway";

KeyRing test_keys() {
  KeyRing keys;
  EXPECT_TRUE(keys.add({"gateway", core::Secret(kKey), rights_of(Right::listen)}));
  EXPECT_TRUE(keys.add({"client", core::Secret(kKey), rights_of(Right::send)}));
  EXPECT_TRUE(keys.add({"admin", core::Secret("other-key"), rights_of(Right::manage)}));
  return keys;
}

TokenVerdict verify(std::string_view token, std::string_view path, Right right,
                    std::int64_t now = kBefore) {
  static const KeyRing keys = test_keys();
  return verify_sas_token(token, keys, TokenRequirement{path, right, now});
}

TEST(SasToken, AcceptsATokenMintedByHycoWsWithPortAndUpperCaseEscapes) {
  const auto verdict = verify(kHycoListenToken, "hyco", Right::listen);
  EXPECT_TRUE(verdict.ok()) << verdict.reason;
  EXPECT_EQ(verdict.rule, "gateway");
  EXPECT_EQ(verdict.expires_at, kSe);
}

TEST(SasToken, AcceptsAHycoWsSenderTokenForASubPath) {
  EXPECT_TRUE(verify(kHycoConnectToken, "hyco/sub", Right::send).ok());
  EXPECT_TRUE(verify(kHycoConnectToken, "HYCO/sub/deeper", Right::send).ok());
}

TEST(SasToken, AcceptsADotnetTokenWithLowerCaseEscapesAndTrailingSlash) {
  const auto verdict = verify(kDotnetToken, "hyco", Right::listen);
  EXPECT_TRUE(verdict.ok()) << verdict.reason;
}

TEST(SasToken, MintsExactlyWhatHycoWsMints) {
  auto sr = sas_resource_uri("wss://127.0.0.1:8443/$hc/hyco?sb-hc-action=listen", SdkStyle::node);
  ASSERT_TRUE(sr);
  EXPECT_EQ(*sr, "http://127.0.0.1:8443/hyco");
  EXPECT_EQ(create_sas_token(*sr, "gateway", core::Secret(kKey), kSe, SdkStyle::node),
            kHycoListenToken);
}

TEST(SasToken, MintsExactlyWhatTheDotnetSdkMints) {
  auto sr =
      sas_resource_uri("wss://contoso.servicebus.windows.net:443/$hc/hyco?x=1", SdkStyle::dotnet);
  ASSERT_TRUE(sr);
  EXPECT_EQ(*sr, "http://contoso.servicebus.windows.net/hyco/");
  EXPECT_EQ(create_sas_token(*sr, "gateway", core::Secret(kKey), kSe, SdkStyle::dotnet),
            kDotnetToken);
}

TEST(SasToken, RejectsEveryFaultWithItsHandshakeStatus) {
  struct Case {
    std::string token;
    std::string path;
    Right right;
    TokenFault fault;
    int status;
  };
  std::string tampered = kHycoListenToken;
  tampered.replace(tampered.find("sig=C"), 5, "sig=D");
  std::string renamed = kHycoListenToken;
  renamed.replace(renamed.find("skn=gateway"), 11, "skn=nobody");
  const std::vector<Case> cases = {
      {"", "hyco", Right::listen, TokenFault::missing, 401},
      {"Bearer abc", "hyco", Right::listen, TokenFault::malformed, 401},
      {"SharedAccessSignature sr=a&sig=b&se=1", "hyco", Right::listen, TokenFault::malformed, 401},
      {"SharedAccessSignature sr=a&sig=b&se=soon&skn=gateway", "hyco", Right::listen,
       TokenFault::malformed, 401},
      {"SharedAccessSignature sr=a&sr=a&sig=b&se=1&skn=gateway", "hyco", Right::listen,
       TokenFault::malformed, 401},
      {renamed, "hyco", Right::listen, TokenFault::unknown_rule, 401},
      {tampered, "hyco", Right::listen, TokenFault::bad_signature, 401},
      {kHycoListenToken, "other", Right::listen, TokenFault::wrong_audience, 403},
      {kHycoListenToken, "hycox", Right::listen, TokenFault::wrong_audience, 403},
      {kHycoListenToken, "hyco", Right::send, TokenFault::missing_right, 403},
  };
  for (const auto& c : cases) {
    const auto verdict = verify(c.token, c.path, c.right);
    EXPECT_EQ(verdict.fault, c.fault) << c.token << " -> " << verdict.reason;
    EXPECT_EQ(handshake_status(verdict.fault), c.status) << c.token;
  }
}

TEST(SasToken, RejectsATokenAtAndAfterItsExpiry) {
  EXPECT_EQ(verify(kHycoListenToken, "hyco", Right::listen, kSe).fault, TokenFault::expired);
  EXPECT_EQ(verify(kHycoListenToken, "hyco", Right::listen, kSe + 1).fault, TokenFault::expired);
  EXPECT_TRUE(verify(kHycoListenToken, "hyco", Right::listen, kSe - 1).ok());
}

TEST(SasToken, ANamespaceLevelTokenGrantsEveryPathAndManageGrantsBothRights) {
  const auto token =
      create_sas_token("http://relay.example/", "admin", core::Secret("other-key"), kSe);
  EXPECT_TRUE(verify(token, "a/b/c", Right::listen).ok());
  EXPECT_TRUE(verify(token, "z", Right::send).ok());
}

TEST(SasToken, TheAudienceIgnoresSchemeHostCaseAndAnHcPrefix) {
  for (const char* sr : {"sb://RELAY.example/hyco", "https://relay.example:9443/$hc/hyco/",
                         "http://relay.example/HYCO"}) {
    const auto token = create_sas_token(sr, "gateway", core::Secret(kKey), kSe);
    EXPECT_TRUE(verify(token, "hyco", Right::listen).ok()) << sr;
  }
}

TEST(SasToken, RejectionReasonsNeverContainTheSignatureOrKey) {
  std::string tampered = kHycoListenToken;
  tampered.replace(tampered.find("sig=C"), 5, "sig=D");
  for (const auto& token : {tampered, std::string(kHycoListenToken)}) {
    for (Right right : {Right::listen, Right::send}) {
      const auto verdict = verify(token, "nothere", right);
      EXPECT_EQ(verdict.reason.find("ggje3p"), std::string::npos);
      EXPECT_EQ(verdict.reason.find(kKey), std::string::npos);
    }
  }
}

TEST(SasToken, PathCoversOnSegmentBoundariesOnly) {
  EXPECT_TRUE(path_covers("a", "a"));
  EXPECT_TRUE(path_covers("/a/", "a/b"));
  EXPECT_FALSE(path_covers("a", "ab"));
  EXPECT_TRUE(path_covers("", "anything"));
  EXPECT_FALSE(path_covers("a/b", "a"));
}

TEST(KeyRingTest, RefusesDuplicateEmptyOrRightlessRules) {
  KeyRing keys;
  EXPECT_TRUE(keys.add({"a", core::Secret("k"), rights_of(Right::send)}));
  EXPECT_FALSE(keys.add({"a", core::Secret("k"), rights_of(Right::send)}));
  EXPECT_FALSE(keys.add({"b", core::Secret(""), rights_of(Right::send)}));
  EXPECT_FALSE(keys.add({"c", core::Secret("k"), 0}));
  EXPECT_FALSE(keys.add({"", core::Secret("k"), rights_of(Right::send)}));
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
