// Certificate facts: what a certificate says about itself (names, fingerprints, key, validity),
// extracted once so the interception verdict, expiry checks and reports work on plain data.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>

#include "core/probe_result.hpp"
#include "core/result.hpp"

namespace gwprobe::probes::tls {

using WallClock = std::chrono::system_clock;

/// Everything gwprobe reports about one certificate. Fingerprints are upper-case hex without
/// separators; the SPKI digest is SHA-256 over the DER SubjectPublicKeyInfo (the HPKP/curl pin).
struct CertFacts {
  std::string subject;      ///< RFC 2253: "CN=server.test,O=Example"
  std::string issuer;       ///< RFC 2253
  std::string subject_cn;   ///< "" when the subject has no CN
  std::string subject_org;  ///< "" when the subject has no O
  std::string issuer_cn;
  std::string issuer_org;
  std::string sha256;  ///< certificate fingerprint
  std::string sha1;    ///< certificate thumbprint, as Windows and Microsoft's docs show it
  std::string spki_sha256_hex;
  std::string spki_sha256_base64;
  std::int64_t not_before_unix = 0;
  std::int64_t not_after_unix = 0;
  std::string key_type;   ///< "RSA", "EC", "ED25519", "ED448", "DSA", or the OpenSSL name
  std::string key_curve;  ///< "P-256" etc. for EC keys, "" otherwise
  int key_bits = 0;
  std::vector<std::string> sans;  ///< "DNS:server.test", "IP:127.0.0.1", "email:...", "URI:..."
  bool is_ca = false;             ///< basicConstraints CA:TRUE
  bool self_issued = false;       ///< subject == issuer (a root, or a self-signed leaf)

  /// The name people know a CA by: its CN, with the O in brackets when the CN does not already
  /// contain it ("Zscaler Root CA (Zscaler Inc.)"); the O alone, or the full DN, as fallbacks.
  std::string display_name() const;
  /// "RSA 2048", "EC P-256", "ED25519".
  std::string key_description() const;
};

/// Extracts the facts of one certificate. Never fails: fields OpenSSL cannot decode stay empty.
CertFacts cert_facts(X509* cert);
/// Facts for a chain, in order (leaf first, as the server presented it).
std::vector<CertFacts> chain_facts(std::span<X509* const> chain);

/// "2026-05-01T12:00:00Z" for a unix time (UTC, seconds precision).
std::string format_rfc3339(std::int64_t unix_seconds);

/// A display name for an X509_NAME-like triple (CN, O, full DN): as CertFacts::display_name.
std::string display_name_of(std::string_view cn, std::string_view org, std::string_view dn);

/// The earliest not-after in the chain (the date the chain as a whole stops working), or
/// nullopt for an empty chain. Prometheus exports it as cert_not_after_unix.
std::optional<std::int64_t> earliest_cert_expiry(std::span<const CertFacts> chain);

/// How the chain fares against the clock.
struct ExpiryCheck {
  enum class State { valid, expiring, expired, not_yet_valid } state = State::valid;
  std::size_t index = 0;       ///< the certificate that decided the state (chain position)
  std::int64_t days_left = 0;  ///< whole days until the earliest expiry (negative once expired)
};

/// Expired or not-yet-valid beats expiring; among several, the first in chain order is named.
/// `warning_days` <= 0 disables the expiring warning.
ExpiryCheck check_expiry(std::span<const CertFacts> chain, WallClock::time_point now,
                         int warning_days);

/// Fingerprint text as the user gave it -> upper-case hex without separators. Accepts ':' and
/// spaces between digits and an optional "sha1:"/"sha256:" prefix. `digest_bytes` is 20 (SHA-1)
/// or 32 (SHA-256); the wrong length is invalid_input naming what was expected.
core::Result<std::string> normalize_fingerprint(std::string_view text, std::size_t digest_bytes);

/// SPKI pin text -> upper-case hex of the SHA-256. Accepts base64 (44 chars, with an optional
/// "sha256/" or "sha256//" prefix) or 64 hex digits.
core::Result<std::string> normalize_spki_pin(std::string_view text);

/// Lower-level helpers shared with the fixtures and tests.
std::string to_hex_upper(std::span<const unsigned char> bytes);
std::string to_base64(std::span<const unsigned char> bytes);

/// Writes the facts of `chain` into `into`: chain_length, and per certificate i (0 = leaf)
/// cert<i>_subject, _issuer, _sha256, _sha1, _spki_sha256 (base64), _spki_sha256_hex,
/// _not_before, _not_after (RFC 3339), _not_after_unix, _key, _sans; and cert_not_after_unix =
/// the earliest expiry in `expiry_chain` (the verified path when there is one).
void record_chain_facts(std::span<const CertFacts> chain, std::span<const CertFacts> expiry_chain,
                        core::ProbeResult& into);

}  // namespace gwprobe::probes::tls
