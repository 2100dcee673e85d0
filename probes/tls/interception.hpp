// The SSL-inspection verdict: does the chain a server presented lead to the roots the profile
// expects, to some other CA (TLS inspection re-signing the connection), or to nothing at all?
// Pure: works on CertFacts and a classified verification outcome, so every row of the decision
// table is a table test.
//
// Decision table (first matching row wins; "expected" = the certificate's SHA-1 or SHA-256 is in
// the expected set, or its key (SPKI) is that of an expected certificate, so a cross-signed or
// self-signed twin of an expected CA -- e.g. Microsoft TLS RSA/ECC Root G2 under DigiCert Global
// Root G2/G3 -- counts as expected):
//
//   verified | expected set | condition                                   | rule | verdict
//   ---------+--------------+---------------------------------------------+------+--------------
//   yes      | empty        | -                                           | E1   | trusted (not
//   judged) yes      | given        | an expected CA is on the verified path      | V1   | expected
//   yes      | given        | no expected CA on the path                  | V2   | INTERCEPTED
//   (anchor) no       | empty        | -                                           | E2   |
//   UNTRUSTED no       | given        | a signature on the path does not verify     | U1   |
//   INTERCEPTED (claimed issuer) no       | given        | an expected CA is on the built path | U2
//   | UNTRUSTED (not in store) no       | given        | lone self-signed leaf | U3   | UNTRUSTED
//   no       | given        | issuer missing, its name is an expected CA's| U4   | UNTRUSTED
//   (incomplete chain) no       | given        | otherwise                                   | U5
//   | INTERCEPTED (top-most issuer)
//
// U4 "its name is an expected CA's": the missing issuer's DN or CN equals an expected CA's
// subject or name, or its O equals the O of an expected CA (the missing certificate is then an
// intermediate of the expected PKI that the server failed to send; without that certificate
// nothing stronger than the name can be checked).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tls/cert_facts.hpp"

namespace gwprobe::probes::tls {

/// The CAs the chain must lead to, resolved against the certificates at hand.
struct ExpectedRoots {
  std::vector<std::string> sha1;    ///< normalized upper-case hex
  std::vector<std::string> sha256;  ///< normalized upper-case hex
  /// SPKI SHA-256 (hex) of every certificate found to be expected: another certificate with the
  /// same key is the same CA.
  std::vector<std::string> spki_sha256;
  std::vector<std::string> subjects;       ///< RFC 2253 subjects of expected CAs found locally
  std::vector<std::string> organizations;  ///< their O attributes (non-empty ones)
  std::vector<std::string> names;          ///< display names / CNs, for messages and U4

  /// No expectation at all: the interception verdict cannot be given (rules E1/E2).
  bool empty() const noexcept { return sha1.empty() && sha256.empty() && spki_sha256.empty(); }
  /// The certificate is an expected CA (by fingerprint or by key).
  bool matches(const CertFacts& cert) const;
  /// The issuer named (cn, org, dn) is, by name, one of the expected CAs' (rule U4).
  bool names_expected_issuer(std::string_view cn, std::string_view org, std::string_view dn) const;
  /// "DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017 and 5 more".
  std::string describe() const;

  /// When `cert`'s SHA-1 or SHA-256 is listed, records its key, subject, O and name (so twins
  /// and issuer names can be recognised) and returns true.
  bool learn(const CertFacts& cert);
  /// Records `cert` as an expected CA by key, subject and O: for a CA certificate whose
  /// signature an expected CA's key verifies (a cross-signed intermediate). Its name is not added
  /// to `names`, which lists what the profile asked for.
  void add_subordinate(const CertFacts& cert);
};

/// Builds the expected set from normalized fingerprints and names, learning each expected CA's
/// key, subject and organisation from whichever `known` certificate has that fingerprint (the
/// trust store, the CA file, the presented chain).
ExpectedRoots resolve_expected_roots(std::span<const std::string> sha1,
                                     std::span<const std::string> sha256,
                                     std::span<const std::string> names,
                                     std::span<const CertFacts> known);

/// Why X509_verify_cert did not accept the chain, in the classes the decision table needs.
enum class VerifyProblem {
  none,              ///< verified
  issuer_missing,    ///< the issuer of the top-most certificate is neither sent nor trusted
  self_signed_leaf,  ///< a lone self-signed certificate
  untrusted_root,    ///< the chain ends at a self-signed root that is not trusted here
  bad_signature,     ///< a signature on the path does not verify (altered or forged)
  other,             ///< CA constraints, purpose, path length, unsupported algorithms...
};

/// Maps an X509_V_ERR_* code (the first error the verifier reported) to its class.
VerifyProblem classify_verify_error(int x509_verify_error) noexcept;

/// What the verifier found, as plain data.
struct ChainVerification {
  /// The verified path, or the path OpenSSL built before it gave up; leaf first.
  std::vector<CertFacts> path;
  VerifyProblem problem = VerifyProblem::none;
  std::size_t problem_depth = 0;  ///< chain position of the certificate the error is about
  std::string error_text;         ///< X509_verify_cert_error_string, for messages
};

enum class ChainTrust {
  expected,     ///< verified to an expected CA
  not_judged,   ///< verified, but no expected roots were configured
  intercepted,  ///< TLS_INTERCEPTED
  untrusted,    ///< TLS_UNTRUSTED
};

/// The rows of the decision table above (also reported as the fact "tls_trust_rule").
enum class TrustRule { e1, v1, v2, e2, u1, u2, u3, u4, u5 };
std::string_view to_string(TrustRule rule) noexcept;

struct TrustVerdict {
  ChainTrust trust = ChainTrust::untrusted;
  TrustRule rule = TrustRule::e2;
  /// Intercepted: the CA that re-signs the connection (the top-most non-expected issuer).
  /// Otherwise the anchor (verified) or the top-most issuer (not verified).
  std::string issuing_ca;
  std::string reason;  ///< one line, without the host
  std::string advice;  ///< what to change; empty when nothing is wrong
};

/// Applies the decision table.
TrustVerdict judge_chain(const ChainVerification& verification, const ExpectedRoots& expected);

/// True when any certificate in `chain` has an SPKI SHA-256 (hex) in `pins_hex`.
bool chain_matches_pins(std::span<const CertFacts> chain, std::span<const std::string> pins_hex);

}  // namespace gwprobe::probes::tls
