// Certificate facts: checked against digests computed independently (the fixture, the openssl
// command line) and against a real public root.
#include "probes/tls/cert_facts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "tests/fixtures/cert_factory.hpp"

namespace gwprobe::probes::tls {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// DigiCert Global Root G2, one of the roots Microsoft lists for Azure endpoints. Its facts below
// come from `openssl x509` and from Microsoft's published SHA-1 thumbprint.
constexpr char kDigiCertGlobalRootG2[] = R"(-----BEGIN CERTIFICATE-----
MIIDjjCCAnagAwIBAgIQAzrx5qcRqaC7KGSxHQn65TANBgkqhkiG9w0BAQsFADBh
MQswCQYDVQQGEwJVUzEVMBMGA1UEChMMRGlnaUNlcnQgSW5jMRkwFwYDVQQLExB3
d3cuZGlnaWNlcnQuY29tMSAwHgYDVQQDExdEaWdpQ2VydCBHbG9iYWwgUm9vdCBH
MjAeFw0xMzA4MDExMjAwMDBaFw0zODAxMTUxMjAwMDBaMGExCzAJBgNVBAYTAlVT
MRUwEwYDVQQKEwxEaWdpQ2VydCBJbmMxGTAXBgNVBAsTEHd3dy5kaWdpY2VydC5j
b20xIDAeBgNVBAMTF0RpZ2lDZXJ0IEdsb2JhbCBSb290IEcyMIIBIjANBgkqhkiG
9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuzfNNNx7a8myaJCtSnX/RrohCgiN9RlUyfuI
2/Ou8jqJkTx65qsGGmvPrC3oXgkkRLpimn7Wo6h+4FR1IAWsULecYxpsMNzaHxmx
1x7e/dfgy5SDN67sH0NO3Xss0r0upS/kqbitOtSZpLYl6ZtrAGCSYP9PIUkY92eQ
q2EGnI/yuum06ZIya7XzV+hdG82MHauVBJVJ8zUtluNJbd134/tJS7SsVQepj5Wz
tCO7TG1F8PapspUwtP1MVYwnSlcUfIKdzXOS0xZKBgyMUNGPHgm+F6HmIcr9g+UQ
vIOlCsRnKPZzFBQ9RnbDhxSJITRNrw9FDKZJobq7nMWxM4MphQIDAQABo0IwQDAP
BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBhjAdBgNVHQ4EFgQUTiJUIBiV
5uNu5g/6+rkS7QYXjzkwDQYJKoZIhvcNAQELBQADggEBAGBnKJRvDkhj6zHd6mcY
1Yl9PMWLSn/pvtsrF9+wX3N3KjITOYFnQoQj8kVnNeyIv/iPsGEMNKSuIEyExtv4
NeF22d+mQrvHRAiGfzZ0JFrabA0UWTW98kndth/Jsw1HKj2ZL7tcu7XUIOGZX1NG
Fdtom/DzMNU+MeKNhJ7jitralj41E6Vf8PlwUHBHQRFXGU7Aj64GxJUTFy8bJZ91
8rGOmaFvE7FBcf6IKshPECBV1/MUReXgRPTqh5Uykw7+U0b6LJ3/iyK5S9kJRaTe
pLiaWN0bfVKfjllDiIGknibVb63dDcY3fe0Dkhvld1927jyNxF1WW6LZZm6zNTfl
MrY=
-----END CERTIFICATE-----
)";

X509Ptr parse_pem(const char* pem) {
  BioPtr bio(BIO_new_mem_buf(pem, -1));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST(CertFacts, ARealPublicRootGivesThePublishedThumbprintAndTheOpensslCliFacts) {
  const X509Ptr root = parse_pem(kDigiCertGlobalRootG2);
  ASSERT_TRUE(root);
  const CertFacts f = cert_facts(root.get());
  EXPECT_EQ(f.sha1, "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4");
  EXPECT_EQ(f.sha256, "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F");
  EXPECT_EQ(f.spki_sha256_base64, "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=");
  EXPECT_EQ(f.subject, "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US");
  EXPECT_EQ(f.issuer, f.subject);
  EXPECT_EQ(f.subject_cn, "DigiCert Global Root G2");
  EXPECT_EQ(f.subject_org, "DigiCert Inc");
  EXPECT_EQ(f.not_before_unix, 1375358400);
  EXPECT_EQ(f.not_after_unix, 2147169600);
  EXPECT_EQ(format_rfc3339(f.not_after_unix), "2038-01-15T12:00:00Z");
  EXPECT_EQ(f.key_description(), "RSA 2048");
  EXPECT_TRUE(f.is_ca);
  EXPECT_TRUE(f.self_issued);
  EXPECT_TRUE(f.sans.empty());
  EXPECT_EQ(f.display_name(), "DigiCert Global Root G2 (DigiCert Inc)");
}

TEST(CertFacts, AGeneratedLeafMatchesDigestsComputedIndependently) {
  const auto& pki = testing::TestPki::get();
  const CertFacts f = cert_facts(pki.leaf.cert());
  EXPECT_EQ(f.sha1, pki.leaf.sha1());
  EXPECT_EQ(f.sha256, pki.leaf.sha256());
  EXPECT_EQ(f.spki_sha256_base64, pki.leaf.spki_sha256_base64());
  EXPECT_EQ(f.spki_sha256_hex.size(), 64u);
  EXPECT_EQ(f.subject, "CN=relay.test");
  EXPECT_EQ(f.issuer, "CN=Fake Public TLS CA 01,O=Fake Public Trust");
  EXPECT_EQ(f.issuer_cn, "Fake Public TLS CA 01");
  EXPECT_EQ(f.issuer_org, "Fake Public Trust");
  EXPECT_EQ(f.key_description(), "EC P-256");
  EXPECT_EQ(f.key_bits, 256);
  EXPECT_THAT(f.sans, ElementsAre("DNS:relay.test", "DNS:localhost", "IP:127.0.0.1", "IP:::1"));
  EXPECT_FALSE(f.is_ca);
  EXPECT_FALSE(f.self_issued);
}

TEST(CertFacts, KeyTypesAreDescribedWithSizeOrCurve) {
  const auto& pki = testing::TestPki::get();
  EXPECT_EQ(cert_facts(pki.rsa_leaf.cert()).key_description(), "RSA 2048");
  const auto p384 =
      testing::make_root_ca({"P384 Root", "", {}, {}, true, testing::KeyKind::ec_p384});
  EXPECT_EQ(cert_facts(p384.cert()).key_description(), "EC P-384");
}

TEST(CertFacts, ARootIsASelfIssuedCa) {
  const CertFacts f = cert_facts(testing::TestPki::get().public_root.cert());
  EXPECT_TRUE(f.is_ca);
  EXPECT_TRUE(f.self_issued);
  EXPECT_EQ(f.display_name(), "Fake Public Root G2 (Fake Public Trust)");
}

TEST(CertFacts, ANullCertificateGivesEmptyFactsInsteadOfCrashing) {
  const CertFacts f = cert_facts(nullptr);
  EXPECT_TRUE(f.subject.empty());
  EXPECT_TRUE(f.sha256.empty());
}

TEST(FormatRfc3339, FormatsUnixSecondsAsUtc) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339(2147483648LL), "2038-01-19T03:14:08Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
}

TEST(DisplayName, PrefersTheCnAndAddsTheOrganisationWhenItSaysSomethingNew) {
  struct Row {
    const char* cn;
    const char* org;
    const char* dn;
    const char* expected;
  };
  const Row rows[] = {
      {"TL Bump CA", "", "CN=TL Bump CA", "TL Bump CA"},
      {"Zscaler Root CA", "Zscaler Inc.", "x", "Zscaler Root CA (Zscaler Inc.)"},
      {"Microsoft RSA Root Certificate Authority 2017", "Microsoft", "x",
       "Microsoft RSA Root Certificate Authority 2017"},
      {"", "Example Corp", "O=Example Corp", "Example Corp"},
      {"", "", "OU=Only,C=US", "OU=Only,C=US"},
  };
  for (const auto& r : rows) EXPECT_EQ(display_name_of(r.cn, r.org, r.dn), r.expected) << r.cn;
}

CertFacts dated(std::int64_t not_before, std::int64_t not_after) {
  CertFacts f;
  f.not_before_unix = not_before;
  f.not_after_unix = not_after;
  return f;
}

TEST(EarliestCertExpiry, IsTheSmallestNotAfterInTheChain) {
  const std::vector<CertFacts> chain = {dated(0, 300), dated(0, 100), dated(0, 200)};
  EXPECT_EQ(earliest_cert_expiry(chain), 100);
  EXPECT_EQ(earliest_cert_expiry({}), std::nullopt);
}

TEST(CheckExpiry, ClassifiesTheChainAgainstTheClock) {
  using State = ExpiryCheck::State;
  constexpr std::int64_t kDay = 86'400;
  const std::int64_t now = 1'800'000'000;
  const auto at = [](std::int64_t t) { return WallClock::time_point(std::chrono::seconds(t)); };
  struct Row {
    const char* name;
    std::vector<CertFacts> chain;
    int warning_days;
    State state;
    std::size_t index;
    std::int64_t days_left;
  };
  const std::vector<Row> rows = {
      {"all valid for long",
       {dated(now - kDay, now + 90 * kDay), dated(0, now + 900 * kDay)},
       14,
       State::valid,
       0,
       90},
      {"intermediate expires soonest",
       {dated(0, now + 90 * kDay), dated(0, now + 10 * kDay + 5)},
       14,
       State::expiring,
       1,
       10},
      {"warning disabled", {dated(0, now + 2 * kDay)}, 0, State::valid, 0, 2},
      {"leaf expired", {dated(0, now - 3 * kDay), dated(0, now + kDay)}, 14, State::expired, 0, -3},
      {"expired beats expiring",
       {dated(0, now + kDay), dated(0, now - kDay)},
       14,
       State::expired,
       1,
       -1},
      {"not yet valid", {dated(now + kDay, now + 9 * kDay)}, 14, State::not_yet_valid, 0, 9},
      {"expires this very second is still valid", {dated(0, now)}, 14, State::expiring, 0, 0},
  };
  for (const auto& r : rows) {
    const auto c = check_expiry(r.chain, at(now), r.warning_days);
    EXPECT_EQ(c.state, r.state) << r.name;
    EXPECT_EQ(c.index, r.index) << r.name;
    EXPECT_EQ(c.days_left, r.days_left) << r.name;
  }
}

TEST(NormalizeFingerprint, AcceptsTheUsualSpellingsOfAThumbprint) {
  const std::string want = "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4";
  for (const char* text :
       {"DF3C24F9BFD666761B268073FE06D1CC8D4F82A4", "df3c24f9bfd666761b268073fe06d1cc8d4f82a4",
        "DF:3C:24:F9:BF:D6:66:76:1B:26:80:73:FE:06:D1:CC:8D:4F:82:A4",
        "df 3c 24 f9 bf d6 66 76 1b 26 80 73 fe 06 d1 cc 8d 4f 82 a4",
        "sha1:DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"}) {
    auto r = normalize_fingerprint(text, 20);
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(*r, want);
  }
}

TEST(NormalizeFingerprint, RejectsWrongLengthsAndNonHexWithAClearMessage) {
  auto short_one = normalize_fingerprint("DF3C24", 20);
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(short_one.error().message,
            "fingerprint 'DF3C24': expected a SHA-1 of 40 hex digits, got 6");
  auto sha1_as_sha256 = normalize_fingerprint("DF3C24F9BFD666761B268073FE06D1CC8D4F82A4", 32);
  ASSERT_FALSE(sha1_as_sha256);
  EXPECT_THAT(sha1_as_sha256.error().message, HasSubstr("expected a SHA-256 of 64 hex digits"));
  auto not_hex = normalize_fingerprint("ZZ3C24F9BFD666761B268073FE06D1CC8D4F82A4", 20);
  ASSERT_FALSE(not_hex);
  EXPECT_THAT(not_hex.error().message, HasSubstr("expected hex digits"));
}

TEST(NormalizeSpkiPin, AcceptsBase64WithOrWithoutPrefixAndHex) {
  const std::string hex = "8BB593A93BE1D0E8A822BB887C547890C3E706AAD2DAB76254F97FB36B82FC26";
  for (const char* text : {"i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=",
                           "sha256//i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=",
                           "sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=",
                           "8bb593a93be1d0e8a822bb887c547890c3e706aad2dab76254f97fb36b82fc26"}) {
    auto r = normalize_spki_pin(text);
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(*r, hex) << text;
  }
}

TEST(NormalizeSpkiPin, RejectsAnythingThatIsNotASha256) {
  for (const char* text : {"", "abc", "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/C==",
                           "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CYA", "sha256//"}) {
    auto r = normalize_spki_pin(text);
    ASSERT_FALSE(r) << text;
    EXPECT_THAT(r.error().message, HasSubstr("expected the base64 (44 characters) or hex"));
  }
}

TEST(RecordChainFacts, WritesPerCertificateFactsAndTheEarliestExpiryOfTheCheckedPath) {
  const auto& pki = testing::TestPki::get();
  const std::vector<CertFacts> presented = {cert_facts(pki.expiring_leaf.cert()),
                                            cert_facts(pki.public_intermediate.cert())};
  std::vector<CertFacts> path = presented;
  path.push_back(cert_facts(pki.public_root.cert()));
  core::ProbeResult r;
  record_chain_facts(presented, path, r);
  EXPECT_EQ(r.fact_text("chain_length"), "2");
  EXPECT_EQ(r.fact_text("cert0_subject"), "CN=relay.test");
  EXPECT_EQ(r.fact_text("cert1_subject"), "CN=Fake Public TLS CA 01,O=Fake Public Trust");
  EXPECT_EQ(r.fact_text("cert0_sha256"), pki.expiring_leaf.sha256());
  EXPECT_EQ(r.fact_text("cert0_sha1"), pki.expiring_leaf.sha1());
  EXPECT_EQ(r.fact_text("cert0_spki_sha256"), pki.expiring_leaf.spki_sha256_base64());
  EXPECT_EQ(r.fact_text("cert0_key"), "EC P-256");
  EXPECT_EQ(r.fact_text("cert0_sans"), "DNS:relay.test, DNS:localhost, IP:127.0.0.1, IP:::1");
  EXPECT_EQ(r.fact_text("cert0_not_after"), format_rfc3339(presented[0].not_after_unix));
  EXPECT_EQ(r.fact_text("cert_not_after_unix"), std::to_string(presented[0].not_after_unix));
  EXPECT_EQ(r.fact("cert2_subject"), nullptr);  // the path's root is not a presented cert
}

}  // namespace
}  // namespace gwprobe::probes::tls
