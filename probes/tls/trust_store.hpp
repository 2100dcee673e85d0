// Trust material: the certificates gwprobe trusts (system store, CA file), the expected roots
// resolved against them, and chain verification with OpenSSL's verifier -- with time and name
// left out, because expiry and name mismatch are reported as their own findings.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "probes/tls/cert_facts.hpp"
#include "probes/tls/interception.hpp"
#include "probes/tls/openssl_handles.hpp"
#include "probes/tls/tls_options.hpp"

namespace gwprobe::probes::tls {

/// A certificate with its facts computed once.
struct KnownCert {
  X509Ptr cert;
  CertFacts facts;
};
using CertList = std::vector<KnownCert>;

/// Every certificate of a PEM file (BEGIN CERTIFICATE or BEGIN TRUSTED CERTIFICATE). Loaded
/// once per process and reloaded when the file's size or mtime changes, because a check runs
/// tens of TLS probes in parallel against the same bundle. A file without certificates is
/// invalid_input; an unreadable one is not_found / io.
core::Result<std::shared_ptr<const CertList>> load_pem_certificates(const std::string& path);

/// The system store: OpenSSL's default CA file ($SSL_CERT_FILE overrides it; on Debian
/// /etc/ssl/certs/ca-certificates.crt), or, when that file does not exist, every certificate
/// file in the default directory ($SSL_CERT_DIR, /etc/ssl/certs).
core::Result<std::shared_ptr<const CertList>> load_system_certificates();

/// What a probe trusts. Either list may be null (not used).
struct TrustMaterial {
  std::shared_ptr<const CertList> system;
  std::shared_ptr<const CertList> ca_file;
};

/// Loads what `options` ask for (system store and/or CA file).
core::Result<TrustMaterial> load_trust_material(const TlsOptions& options);

/// OpenSSL's verifier over the presented chain (leaf first, extra certificates as untrusted
/// intermediates) against the trusted certificates: signatures, CA constraints, path length and
/// the TLS-server purpose; not validity dates and not the host name. Every error is collected
/// (the verifier is told to carry on) so the path is as complete as it can be; the one reported
/// is the most telling (bad signature > self-signed leaf > missing issuer > untrusted root >
/// other).
ChainVerification verify_chain(std::span<X509* const> presented, const TrustMaterial& trust);

/// The expected roots for these options: the normalized fingerprints (or, when none are given,
/// every certificate of the CA file), resolved against the trusted and presented certificates;
/// plus every CA certificate, presented or in the CA file, whose signature an expected CA's key
/// verifies (a cross-signed intermediate such as Microsoft TLS RSA Root G2 under DigiCert Global
/// Root G2) -- so a path anchored at that CA's self-signed twin still counts as expected.
ExpectedRoots expected_roots_for(const TlsOptions& options, const TrustMaterial& trust,
                                 std::span<X509* const> presented);

}  // namespace gwprobe::probes::tls
