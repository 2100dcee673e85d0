// Trust material: loading CA files (and the cache), OpenSSL's verifier with time and name left
// out, and the expected set including cross-signed twins.
#include "probes/tls/trust_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/fixtures/cert_factory.hpp"

namespace gwprobe::probes::tls {
namespace {

using ::testing::HasSubstr;
using testing::TestCert;
using testing::TestPki;

std::string write_file(const std::string& name, const std::vector<const TestCert*>& certs) {
  std::string path = testing::test_temp_dir() + "/" + name;
  testing::write_pem_file(path, certs);
  return path;
}

TrustMaterial trust_only(const std::vector<const TestCert*>& certs, const std::string& name) {
  auto loaded = load_pem_certificates(write_file(name, certs));
  EXPECT_TRUE(loaded);
  return TrustMaterial{nullptr, *loaded};
}

std::vector<X509*> chain_of(const std::vector<const TestCert*>& certs) {
  std::vector<X509*> out;
  out.reserve(certs.size());
  for (const auto* c : certs) out.push_back(c->cert());
  return out;
}

TEST(LoadPemCertificates, AMissingFileIsNotFoundWithTheSystemReason) {
  auto r = load_pem_certificates("/nonexistent/gwprobe/ca.pem");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(r.error().describe(),
            "CA file '/nonexistent/gwprobe/ca.pem' cannot be read (No such file or directory)");
}

TEST(LoadPemCertificates, AFileWithoutCertificatesIsInvalidInput) {
  const std::string path = testing::test_temp_dir() + "/not-pem.txt";
  std::ofstream(path) << "this is not a certificate\n";
  auto r = load_pem_certificates(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(r.error().message, "CA file '" + path + "': expected PEM certificates, found none");
}

TEST(LoadPemCertificates, ReadsEveryCertificateOnceAndReloadsWhenTheFileChanges) {
  const auto& pki = TestPki::get();
  const std::string path = write_file("bundle.pem", {&pki.public_root, &pki.mitm_ca});
  auto first = load_pem_certificates(path);
  ASSERT_TRUE(first);
  ASSERT_EQ((*first)->size(), 2u);
  EXPECT_EQ((**first)[0].facts.sha256, pki.public_root.sha256());
  EXPECT_EQ((**first)[1].facts.subject_cn, "TL Bump CA");
  auto again = load_pem_certificates(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(first->get(), again->get());  // served from the cache

  testing::write_pem_file(path, {&pki.public_root, &pki.mitm_ca, &pki.corporate_root});
  auto changed = load_pem_certificates(path);
  ASSERT_TRUE(changed);
  EXPECT_EQ((*changed)->size(), 3u);
}

TEST(LoadSystemCertificates, HonoursSslCertFile) {
  const auto& pki = TestPki::get();
  const std::string path = write_file("system-override.pem", {&pki.unrelated_root});
  const char* old = std::getenv("SSL_CERT_FILE");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("SSL_CERT_FILE", path.c_str(), 1);
  auto r = load_system_certificates();
  if (old != nullptr) {
    ::setenv("SSL_CERT_FILE", saved.c_str(), 1);
  } else {
    ::unsetenv("SSL_CERT_FILE");
  }
  ASSERT_TRUE(r);
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((**r)[0].facts.subject_cn, "Unrelated Root CA");
}

TEST(LoadSystemCertificates, FindsTheMicrosoftAndDigicertRootsTheProfilesExpect) {
  auto r = load_system_certificates();
  if (!r) GTEST_SKIP() << "no system trust store here: " << r.error().describe();
  const std::vector<std::string> sha1 = {"DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
                                         "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74"};
  const auto expected = resolve_expected_roots(sha1, {}, {}, [&] {
    std::vector<CertFacts> facts;
    for (const auto& c : **r) facts.push_back(c.facts);
    return facts;
  }());
  if (expected.spki_sha256.size() < 2) GTEST_SKIP() << "ca-certificates lacks these roots";
  EXPECT_THAT(expected.names,
              ::testing::UnorderedElementsAre("DigiCert Global Root G2",
                                              "Microsoft RSA Root Certificate Authority 2017"));
}

TEST(VerifyChain, AGoodChainVerifiesToItsRoot) {
  const auto& pki = TestPki::get();
  const auto trust = trust_only({&pki.public_root}, "root-only.pem");
  const auto v = verify_chain(chain_of({&pki.leaf, &pki.public_intermediate}), trust);
  EXPECT_EQ(v.problem, VerifyProblem::none);
  ASSERT_EQ(v.path.size(), 3u);
  EXPECT_EQ(v.path[0].subject_cn, "relay.test");
  EXPECT_EQ(v.path[2].sha256, pki.public_root.sha256());
}

TEST(VerifyChain, IgnoresValidityDatesBecauseExpiryIsItsOwnFinding) {
  const auto& pki = TestPki::get();
  const auto trust = trust_only({&pki.public_root}, "root-only.pem");
  const auto v = verify_chain(chain_of({&pki.expired_leaf, &pki.public_intermediate}), trust);
  EXPECT_EQ(v.problem, VerifyProblem::none);
}

TEST(VerifyChain, ClassifiesWhatIsWrongWithBrokenChains) {
  const auto& pki = TestPki::get();
  const auto trust = trust_only({&pki.public_root}, "root-only.pem");
  const TestCert forged = testing::corrupt_signature(pki.leaf);
  struct Row {
    const char* name;
    std::vector<const TestCert*> presented;
    VerifyProblem problem;
    std::size_t path_length;
    std::size_t depth;
  };
  const std::vector<Row> rows = {
      {"intermediate not sent", {&pki.leaf}, VerifyProblem::issuer_missing, 1, 0},
      {"self-signed leaf", {&pki.self_signed}, VerifyProblem::self_signed_leaf, 1, 0},
      {"bump CA sent", {&pki.mitm_leaf, &pki.mitm_ca}, VerifyProblem::untrusted_root, 2, 1},
      {"bump CA not sent", {&pki.mitm_leaf}, VerifyProblem::issuer_missing, 1, 0},
      {"signature altered",
       {&forged, &pki.public_intermediate},
       VerifyProblem::bad_signature,
       3,
       0},
  };
  for (const auto& r : rows) {
    const auto v = verify_chain(chain_of(r.presented), trust);
    EXPECT_EQ(v.problem, r.problem) << r.name << ": " << v.error_text;
    EXPECT_EQ(v.path.size(), r.path_length) << r.name;
    EXPECT_EQ(v.problem_depth, r.depth) << r.name;
    EXPECT_FALSE(v.error_text.empty()) << r.name;
  }
}

TEST(ExpectedRootsFor, TakesTheCaFileAsTheExpectedSetWhenNoFingerprintsAreGiven) {
  const auto& pki = TestPki::get();
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = write_file("lab-ca.pem", {&pki.public_root});
  auto trust = load_trust_material(o);
  ASSERT_TRUE(trust);
  const auto e = expected_roots_for(o, *trust, {});
  EXPECT_TRUE(e.matches(cert_facts(pki.public_root.cert())));
  EXPECT_EQ(e.names, std::vector<std::string>{"Fake Public Root G2"});
}

TEST(ExpectedRootsFor, TrustsButDoesNotExpectTheCaFileWhenFingerprintsAreGiven) {
  const auto& pki = TestPki::get();
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = write_file("corp-and-public.pem", {&pki.public_root, &pki.corporate_root});
  o.expected_root_sha1 = {pki.public_root.sha1()};
  auto trust = load_trust_material(o);
  ASSERT_TRUE(trust);
  const auto e = expected_roots_for(o, *trust, {});
  EXPECT_TRUE(e.matches(cert_facts(pki.public_root.cert())));
  EXPECT_FALSE(e.matches(cert_facts(pki.corporate_root.cert())));
}

TEST(ExpectedRootsFor, LearnsTheTwinOfACrossSignedIntermediateFromItsVerifiedSignature) {
  const auto& pki = TestPki::get();
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = write_file("public-and-twin.pem", {&pki.public_root, &pki.twin_root});
  o.expected_root_sha1 = {pki.public_root.sha1()};
  auto trust = load_trust_material(o);
  ASSERT_TRUE(trust);
  const CertFacts twin = cert_facts(pki.twin_root.cert());

  const auto with_cross =
      expected_roots_for(o, *trust, chain_of({&pki.twin_leaf, &pki.twin_issuing, &pki.twin_cross}));
  EXPECT_TRUE(with_cross.matches(twin));
  EXPECT_TRUE(with_cross.matches(cert_facts(pki.twin_issuing.cert())));

  const auto without_cross =
      expected_roots_for(o, *trust, chain_of({&pki.twin_leaf, &pki.twin_issuing}));
  EXPECT_FALSE(without_cross.matches(twin));
}

TEST(ExpectedRootsFor, DoesNotLearnACrossSignThatOnlyClaimsTheExpectedIssuer) {
  const auto& pki = TestPki::get();
  // Same subject as the expected root, different key: a forgery cannot borrow its standing.
  const TestCert impostor =
      testing::make_root_ca({"Fake Public Root G2", "Fake Public Trust", {}, {}, true});
  const TestCert fake_cross = testing::cross_sign(pki.twin_root, impostor);
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = write_file("public-only.pem", {&pki.public_root});
  o.expected_root_sha1 = {pki.public_root.sha1()};
  auto trust = load_trust_material(o);
  ASSERT_TRUE(trust);
  const auto e =
      expected_roots_for(o, *trust, chain_of({&pki.twin_leaf, &pki.twin_issuing, &fake_cross}));
  EXPECT_FALSE(e.matches(cert_facts(pki.twin_root.cert())));
}

TEST(LoadTrustMaterial, ReportsAMissingCaFile) {
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = "/nonexistent/lab-ca.pem";
  auto r = load_trust_material(o);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("/nonexistent/lab-ca.pem"));
}

}  // namespace
}  // namespace gwprobe::probes::tls
