// The interception decision table (documented in interception.hpp and the README).
#include "probes/tls/interception.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>

namespace gwprobe::probes::tls {

namespace {

constexpr std::size_t kNamesInMessages = 3;

bool contains(std::span<const std::string> list, std::string_view value) {
  return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (!value.empty() && !contains(list, value)) list.push_back(value);
}

std::string intercepted_advice(const std::string& ca) {
  return "Exempt this host and the gateway's other endpoints (*.servicebus.windows.net and the "
         "rest of the profile) from TLS inspection: add them to the SSL-inspection bypass list of "
         "the proxy or firewall that signs with '" +
         ca + "'. The gateway cannot work through a re-signing proxy.";
}

/// The name of the CA above the top of a path whose issuer is missing.
std::string missing_issuer_name(const CertFacts& top) {
  return display_name_of(top.issuer_cn, top.issuer_org, top.issuer);
}

/// The top-most issuer of a built path: the root itself when the path reaches one, else the
/// (missing) issuer named by the top certificate.
std::string top_most_issuer(const CertFacts& top) {
  return top.self_issued ? top.display_name() : missing_issuer_name(top);
}

TrustVerdict verdict(ChainTrust trust, TrustRule rule, std::string ca, std::string reason,
                     std::string advice = {}) {
  return TrustVerdict{trust, rule, std::move(ca), std::move(reason), std::move(advice)};
}

}  // namespace

bool ExpectedRoots::matches(const CertFacts& cert) const {
  return contains(sha1, cert.sha1) || contains(sha256, cert.sha256) ||
         contains(spki_sha256, cert.spki_sha256_hex);
}

bool ExpectedRoots::names_expected_issuer(std::string_view cn, std::string_view org,
                                          std::string_view dn) const {
  return contains(subjects, dn) || contains(names, cn) || contains(organizations, org);
}

std::string ExpectedRoots::describe() const {
  if (names.empty()) {
    const auto n = sha1.size() + sha256.size();
    return std::to_string(n) + (n == 1 ? " expected root" : " expected roots");
  }
  std::string out;
  const std::size_t shown = std::min(names.size(), kNamesInMessages);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && shown == names.size()) ? " or " : ", ";
    out += names[i];
  }
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

bool ExpectedRoots::learn(const CertFacts& cert) {
  if (!contains(sha1, cert.sha1) && !contains(sha256, cert.sha256)) return false;
  add_subordinate(cert);
  add_unique(names, cert.subject_cn.empty() ? cert.display_name() : cert.subject_cn);
  return true;
}

void ExpectedRoots::add_subordinate(const CertFacts& cert) {
  add_unique(spki_sha256, cert.spki_sha256_hex);
  add_unique(subjects, cert.subject);
  add_unique(organizations, cert.subject_org);
}

ExpectedRoots resolve_expected_roots(std::span<const std::string> sha1,
                                     std::span<const std::string> sha256,
                                     std::span<const std::string> names,
                                     std::span<const CertFacts> known) {
  ExpectedRoots out;
  out.sha1.assign(sha1.begin(), sha1.end());
  out.sha256.assign(sha256.begin(), sha256.end());
  for (const auto& name : names) add_unique(out.names, name);
  for (const auto& cert : known) out.learn(cert);
  return out;
}

VerifyProblem classify_verify_error(int x509_verify_error) noexcept {
  switch (x509_verify_error) {
    case X509_V_OK:
      return VerifyProblem::none;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return VerifyProblem::issuer_missing;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return VerifyProblem::self_signed_leaf;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return VerifyProblem::untrusted_root;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return VerifyProblem::bad_signature;
    default:
      return VerifyProblem::other;
  }
}

std::string_view to_string(TrustRule rule) noexcept {
  switch (rule) {
    case TrustRule::e1:
      return "E1";
    case TrustRule::v1:
      return "V1";
    case TrustRule::v2:
      return "V2";
    case TrustRule::e2:
      return "E2";
    case TrustRule::u1:
      return "U1";
    case TrustRule::u2:
      return "U2";
    case TrustRule::u3:
      return "U3";
    case TrustRule::u4:
      return "U4";
    case TrustRule::u5:
      return "U5";
  }
  return "E2";
}

TrustVerdict judge_chain(const ChainVerification& v, const ExpectedRoots& expected) {
  if (v.path.empty()) {
    return verdict(ChainTrust::untrusted, TrustRule::e2, {}, "the server presented no certificate",
                   "Configure a certificate on the server.");
  }
  const CertFacts& top = v.path.back();

  if (v.problem == VerifyProblem::none) {
    const std::string anchor = top.display_name();
    if (expected.empty()) {
      return verdict(ChainTrust::not_judged, TrustRule::e1, anchor,
                     "chain verifies to '" + anchor +
                         "' (no expected roots configured: interception not judged)");
    }
    // Name the top-most expected CA: the root, not an intermediate learned under it.
    const auto it = std::find_if(v.path.rbegin(), v.path.rend(),
                                 [&](const CertFacts& c) { return expected.matches(c); });
    if (it != v.path.rend()) {
      const std::string ca = it->display_name();
      return verdict(
          ChainTrust::expected, TrustRule::v1, anchor,
          ca == anchor ? "chain verifies to the expected root '" + anchor + "'"
                       : "chain verifies to '" + anchor + "' through the expected CA '" + ca + "'");
    }
    return verdict(ChainTrust::intercepted, TrustRule::v2, anchor,
                   "chain verifies to '" + anchor +
                       "', a locally trusted CA that is not one of the expected roots (" +
                       expected.describe() + "): TLS inspection re-signs the connection",
                   intercepted_advice(anchor));
  }

  const std::string why = v.error_text.empty() ? std::string("chain does not verify")
                                               : "chain does not verify (" + v.error_text + ")";
  if (expected.empty()) {
    const std::string issuer = top_most_issuer(top);
    return verdict(ChainTrust::untrusted, TrustRule::e2, issuer,
                   why + "; top-most issuer '" + issuer + "'",
                   "Trust the issuing CA (--ca-file) if it is legitimate, or fix the server's "
                   "certificate.");
  }

  if (v.problem == VerifyProblem::bad_signature) {
    const std::size_t d = std::min(v.problem_depth, v.path.size() - 1);
    const std::string claimed = missing_issuer_name(v.path[d]);
    return verdict(ChainTrust::intercepted, TrustRule::u1, claimed,
                   "certificate '" + v.path[d].display_name() + "' claims the issuer '" + claimed +
                       "' but its signature does not verify: the chain was altered or forged",
                   intercepted_advice(claimed));
  }

  const auto it = std::find_if(v.path.rbegin(), v.path.rend(),
                               [&](const CertFacts& c) { return expected.matches(c); });
  if (it != v.path.rend()) {
    const std::string ca = it->display_name();
    return verdict(ChainTrust::untrusted, TrustRule::u2, ca,
                   why + ", although it leads to the expected CA '" + ca + "'",
                   "Install '" + ca +
                       "' in the trust store (update the ca-certificates package or pass "
                       "--ca-file); the chain itself is not intercepted.");
  }

  if (v.problem == VerifyProblem::self_signed_leaf && v.path.size() == 1) {
    const std::string name = top.display_name();
    return verdict(ChainTrust::untrusted, TrustRule::u3, name,
                   "self-signed certificate '" + name + "'; nothing trusts it",
                   "Give the server a certificate from a public CA, or trust it with --ca-file.");
  }

  if (!top.self_issued &&
      expected.names_expected_issuer(top.issuer_cn, top.issuer_org, top.issuer)) {
    const std::string issuer = missing_issuer_name(top);
    return verdict(ChainTrust::untrusted, TrustRule::u4, issuer,
                   "incomplete chain: the issuer '" + issuer +
                       "' belongs to the expected PKI but was neither sent by the server nor found "
                       "in the trust store",
                   "The server must send its intermediate certificates; if it does, the trust "
                   "store lacks the expected root (update ca-certificates or pass --ca-file).");
  }

  // Everything left is a chain that heads somewhere other than the expected PKI.
  const std::string ca = top_most_issuer(top);
  return verdict(ChainTrust::intercepted, TrustRule::u5, ca,
                 "chain is issued by '" + ca + "', not by one of the expected roots (" +
                     expected.describe() + "): TLS inspection re-signs the connection",
                 intercepted_advice(ca));
}

bool chain_matches_pins(std::span<const CertFacts> chain, std::span<const std::string> pins_hex) {
  return std::any_of(chain.begin(), chain.end(),
                     [&](const CertFacts& c) { return contains(pins_hex, c.spki_sha256_hex); });
}

}  // namespace gwprobe::probes::tls
