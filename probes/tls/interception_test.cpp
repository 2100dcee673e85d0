// The interception decision table, row by row, on synthetic certificate facts.
#include "probes/tls/interception.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

namespace gwprobe::probes::tls {
namespace {

using ::testing::HasSubstr;

/// A certificate described by the fields the verdict looks at. `id` makes its fingerprints and
/// key unique; `key` lets two certificates share a key (a cross-sign and its self-signed twin).
CertFacts cert(const std::string& id, const std::string& cn, const std::string& org,
               const std::string& issuer_cn, const std::string& issuer_org, bool ca,
               const std::string& key = {}) {
  CertFacts f;
  f.subject_cn = cn;
  f.subject_org = org;
  f.subject = "CN=" + cn + (org.empty() ? "" : ",O=" + org);
  f.issuer_cn = issuer_cn;
  f.issuer_org = issuer_org;
  f.issuer = "CN=" + issuer_cn + (issuer_org.empty() ? "" : ",O=" + issuer_org);
  f.sha1 = "SHA1-" + id;
  f.sha256 = "SHA256-" + id;
  f.spki_sha256_hex = "SPKI-" + (key.empty() ? id : key);
  f.is_ca = ca;
  f.self_issued = f.subject == f.issuer;
  return f;
}

// The cast of the table: a public PKI the profile expects, and the CAs that are not it.
const CertFacts kRoot =
    cert("root", "Public Root G2", "Public Trust", "Public Root G2", "Public Trust", true);
const CertFacts kIntermediate =
    cert("int", "Public TLS CA 01", "Public Trust", "Public Root G2", "Public Trust", true);
const CertFacts kLeaf = cert("leaf", "relay.test", "", "Public TLS CA 01", "Public Trust", false);
const CertFacts kBumpCa = cert("bump", "TL Bump CA", "", "TL Bump CA", "", true);
const CertFacts kBumpedLeaf = cert("bumped", "relay.test", "", "TL Bump CA", "", false);
const CertFacts kZscaler =
    cert("zs", "Zscaler Root CA", "Zscaler Inc.", "Zscaler Root CA", "Zscaler Inc.", true);
const CertFacts kZscalerLeaf =
    cert("zsleaf", "relay.test", "", "Zscaler Root CA", "Zscaler Inc.", false);
const CertFacts kSelfSigned = cert("self", "relay.test", "", "relay.test", "", false);
// Microsoft TLS RSA Root G2 style: a self-signed twin and a cross-sign under the public root.
const CertFacts kTwinRoot =
    cert("twin", "TLS RSA Root G2", "Cloud Corp", "TLS RSA Root G2", "Cloud Corp", true, "twinkey");
const CertFacts kTwinIssuing =
    cert("twiniss", "Cloud TLS Issuing CA 03", "Cloud Corp", "TLS RSA Root G2", "Cloud Corp", true);
const CertFacts kTwinLeaf =
    cert("twinleaf", "relay.test", "", "Cloud TLS Issuing CA 03", "Cloud Corp", false);

ExpectedRoots public_pki() {
  const std::vector<std::string> sha1 = {"SHA1-root"};
  const std::vector<std::string> names = {"Public Root G2"};
  const std::vector<CertFacts> known = {kRoot};
  return resolve_expected_roots(sha1, {}, names, known);
}

ChainVerification verified(std::vector<CertFacts> path) {
  return ChainVerification{std::move(path), VerifyProblem::none, 0, {}};
}

ChainVerification failed(std::vector<CertFacts> path, VerifyProblem problem,
                         std::size_t depth = 0) {
  return ChainVerification{std::move(path), problem, depth, "some verifier error"};
}

struct Row {
  const char* name;
  ChainVerification verification;
  ExpectedRoots expected;
  ChainTrust trust;
  TrustRule rule;
  const char* issuing_ca;
};

TEST(JudgeChain, FollowsTheDecisionTableRowByRow) {
  ExpectedRoots twin_aware = public_pki();
  twin_aware.add_subordinate(kTwinRoot);  // what a verified cross-sign teaches
  const std::vector<Row> rows = {
      {"E1 verified, nothing expected",
       verified({kLeaf, kIntermediate, kRoot}),
       {},
       ChainTrust::not_judged,
       TrustRule::e1,
       "Public Root G2 (Public Trust)"},
      {"V1 verified to the expected root", verified({kLeaf, kIntermediate, kRoot}), public_pki(),
       ChainTrust::expected, TrustRule::v1, "Public Root G2 (Public Trust)"},
      {"V1 anchored at the twin of a cross-signed expected CA",
       verified({kTwinLeaf, kTwinIssuing, kTwinRoot}), twin_aware, ChainTrust::expected,
       TrustRule::v1, "TLS RSA Root G2 (Cloud Corp)"},
      {"V2 verified to a locally trusted inspection root", verified({kZscalerLeaf, kZscaler}),
       public_pki(), ChainTrust::intercepted, TrustRule::v2, "Zscaler Root CA (Zscaler Inc.)"},
      {"V2 twin without the cross-sign is not expected",
       verified({kTwinLeaf, kTwinIssuing, kTwinRoot}), public_pki(), ChainTrust::intercepted,
       TrustRule::v2, "TLS RSA Root G2 (Cloud Corp)"},
      {"E2 not verified, nothing expected",
       failed({kBumpedLeaf, kBumpCa}, VerifyProblem::untrusted_root),
       {},
       ChainTrust::untrusted,
       TrustRule::e2,
       "TL Bump CA"},
      {"U1 a forged signature", failed({kLeaf, kIntermediate}, VerifyProblem::bad_signature, 0),
       public_pki(), ChainTrust::intercepted, TrustRule::u1, "Public TLS CA 01 (Public Trust)"},
      {"U2 expected root sent but not in the store",
       failed({kLeaf, kIntermediate, kRoot}, VerifyProblem::untrusted_root, 2), public_pki(),
       ChainTrust::untrusted, TrustRule::u2, "Public Root G2 (Public Trust)"},
      {"U3 lone self-signed leaf", failed({kSelfSigned}, VerifyProblem::self_signed_leaf),
       public_pki(), ChainTrust::untrusted, TrustRule::u3, "relay.test"},
      {"U4 intermediate missing, issuer O is the expected PKI's",
       failed({kLeaf}, VerifyProblem::issuer_missing), public_pki(), ChainTrust::untrusted,
       TrustRule::u4, "Public TLS CA 01 (Public Trust)"},
      {"U4 root missing from store, issuer named as expected",
       failed({kLeaf, kIntermediate}, VerifyProblem::issuer_missing, 1),
       resolve_expected_roots(std::vector<std::string>{"SHA1-root"}, {},
                              std::vector<std::string>{"Public Root G2"}, {}),
       ChainTrust::untrusted, TrustRule::u4, "Public Root G2 (Public Trust)"},
      {"U5 squid bump sends its CA", failed({kBumpedLeaf, kBumpCa}, VerifyProblem::untrusted_root),
       public_pki(), ChainTrust::intercepted, TrustRule::u5, "TL Bump CA"},
      {"U5 bump CA not sent", failed({kBumpedLeaf}, VerifyProblem::issuer_missing), public_pki(),
       ChainTrust::intercepted, TrustRule::u5, "TL Bump CA"},
      {"U5 constraint error on a foreign chain",
       failed({kZscalerLeaf, kZscaler}, VerifyProblem::other, 0), public_pki(),
       ChainTrust::intercepted, TrustRule::u5, "Zscaler Root CA (Zscaler Inc.)"},
  };
  for (const auto& r : rows) {
    const TrustVerdict v = judge_chain(r.verification, r.expected);
    EXPECT_EQ(v.trust, r.trust) << r.name;
    EXPECT_EQ(v.rule, r.rule) << r.name << ": got " << to_string(v.rule);
    EXPECT_EQ(v.issuing_ca, r.issuing_ca) << r.name;
    EXPECT_FALSE(v.reason.empty()) << r.name;
    if (v.trust == ChainTrust::intercepted) {
      EXPECT_THAT(v.advice, HasSubstr("bypass list")) << r.name;
      EXPECT_THAT(v.advice, HasSubstr(r.issuing_ca)) << r.name;
    }
    if (v.trust == ChainTrust::expected || v.trust == ChainTrust::not_judged) {
      EXPECT_TRUE(v.advice.empty()) << r.name;
    }
  }
}

TEST(JudgeChain, NamesTheExpectedRootsWhenItCallsInterception) {
  const TrustVerdict v =
      judge_chain(failed({kBumpedLeaf, kBumpCa}, VerifyProblem::untrusted_root), public_pki());
  EXPECT_EQ(v.reason,
            "chain is issued by 'TL Bump CA', not by one of the expected roots (Public Root G2): "
            "TLS inspection re-signs the connection");
}

TEST(JudgeChain, AnEmptyChainIsUntrusted) {
  const TrustVerdict v = judge_chain(ChainVerification{}, public_pki());
  EXPECT_EQ(v.trust, ChainTrust::untrusted);
  EXPECT_THAT(v.reason, HasSubstr("no certificate"));
}

TEST(ExpectedRoots, LearnsKeysSubjectsAndNamesOnlyFromListedCertificates) {
  const std::vector<CertFacts> known = {kRoot, kBumpCa, kIntermediate};
  const auto e = resolve_expected_roots(std::vector<std::string>{"SHA1-root"},
                                        std::vector<std::string>{}, {}, known);
  EXPECT_TRUE(e.matches(kRoot));
  EXPECT_FALSE(e.matches(kIntermediate));
  EXPECT_FALSE(e.matches(kBumpCa));
  EXPECT_EQ(e.names, std::vector<std::string>{"Public Root G2"});
  EXPECT_EQ(e.organizations, std::vector<std::string>{"Public Trust"});
  EXPECT_TRUE(e.names_expected_issuer("Public TLS CA 01", "Public Trust", "x"));
  EXPECT_TRUE(e.names_expected_issuer("Public Root G2", "", "x"));
  EXPECT_TRUE(e.names_expected_issuer("", "", kRoot.subject));
  EXPECT_FALSE(e.names_expected_issuer("TL Bump CA", "", "CN=TL Bump CA"));
  EXPECT_FALSE(e.names_expected_issuer("", "", ""));
}

TEST(ExpectedRoots, MatchesBySha256AndBySharedKey) {
  ExpectedRoots e = resolve_expected_roots({}, std::vector<std::string>{"SHA256-twin"}, {},
                                           std::vector<CertFacts>{kTwinRoot});
  const CertFacts cross = cert("cross", "TLS RSA Root G2", "Cloud Corp", "Public Root G2",
                               "Public Trust", true, "twinkey");
  EXPECT_TRUE(e.matches(kTwinRoot));
  EXPECT_TRUE(e.matches(cross));
  EXPECT_FALSE(e.matches(kRoot));
}

TEST(ExpectedRoots, DescribesAtMostThreeNames) {
  ExpectedRoots e;
  e.sha1 = {"a"};
  EXPECT_EQ(e.describe(), "1 expected root");
  e.names = {"A"};
  EXPECT_EQ(e.describe(), "A");
  e.names = {"A", "B"};
  EXPECT_EQ(e.describe(), "A or B");
  e.names = {"A", "B", "C"};
  EXPECT_EQ(e.describe(), "A, B or C");
  e.names = {"A", "B", "C", "D", "E"};
  EXPECT_EQ(e.describe(), "A, B, C and 2 more");
}

TEST(ExpectedRoots, IsEmptyWithoutFingerprints) {
  EXPECT_TRUE(ExpectedRoots{}.empty());
  ExpectedRoots names_only;
  names_only.names = {"DigiCert Global Root G2"};
  EXPECT_TRUE(names_only.empty());
}

TEST(ClassifyVerifyError, MapsOpensslVerifierCodesToTheTableClasses) {
  struct Row {
    int code;
    VerifyProblem problem;
  };
  const Row rows[] = {
      {X509_V_OK, VerifyProblem::none},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, VerifyProblem::issuer_missing},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, VerifyProblem::issuer_missing},
      {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, VerifyProblem::issuer_missing},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, VerifyProblem::self_signed_leaf},
      {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, VerifyProblem::untrusted_root},
      {X509_V_ERR_CERT_UNTRUSTED, VerifyProblem::untrusted_root},
      {X509_V_ERR_CERT_REJECTED, VerifyProblem::untrusted_root},
      {X509_V_ERR_CERT_SIGNATURE_FAILURE, VerifyProblem::bad_signature},
      {X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, VerifyProblem::bad_signature},
      {X509_V_ERR_INVALID_CA, VerifyProblem::other},
      {X509_V_ERR_INVALID_PURPOSE, VerifyProblem::other},
      {X509_V_ERR_PATH_LENGTH_EXCEEDED, VerifyProblem::other},
  };
  for (const auto& r : rows) EXPECT_EQ(classify_verify_error(r.code), r.problem) << r.code;
}

TEST(ChainMatchesPins, FindsAPinAnywhereInTheChain) {
  const std::vector<CertFacts> chain = {kLeaf, kIntermediate};
  EXPECT_TRUE(chain_matches_pins(chain, std::vector<std::string>{"SPKI-int"}));
  EXPECT_TRUE(chain_matches_pins(chain, std::vector<std::string>{"nope", "SPKI-leaf"}));
  EXPECT_FALSE(chain_matches_pins(chain, std::vector<std::string>{"SPKI-root"}));
  EXPECT_FALSE(chain_matches_pins(chain, {}));
}

}  // namespace
}  // namespace gwprobe::probes::tls
