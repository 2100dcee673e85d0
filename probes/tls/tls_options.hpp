// Options of the TLS probe (light header: no OpenSSL here, so probe.hpp stays cheap to include).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "probes/proxy/proxy_options.hpp"
#include "probes/tcp/tcp_options.hpp"

namespace gwprobe::probes::tls {

/// The lowest TLS version the endpoint must negotiate. The gateway's floor is 1.2; a profile may
/// demand 1.3.
enum class MinVersion { tls1_2, tls1_3 };

/// "1.2" / "1.3" (also "TLSv1.2", "tls1.3"); anything else is invalid_input.
core::Result<MinVersion> parse_min_version(std::string_view text);
std::string_view to_string(MinVersion v) noexcept;

/// What the TLS probe checks and against what. The port comes from the Target.
struct TlsOptions {
  static constexpr std::string_view kind = "tls";

  /// SNI and the name the certificate must carry. Empty: the target host (no SNI for an IP
  /// literal, as RFC 6066 requires; the name check then uses the IP).
  std::string servername;
  /// PEM bundle of CAs that are trusted in addition to (or, without the system store, instead
  /// of) the system store. When no expected root fingerprints are given, these CAs are also
  /// the expected roots (the local and lab profiles work this way).
  std::string ca_file;
  /// Trust the system store (OpenSSL's default file and directory, i.e. /etc/ssl/certs).
  bool use_system_store = true;
  /// The roots the chain must end at (SHA-1 thumbprints as Microsoft publishes them, or SHA-256
  /// fingerprints; hex, any case, ':' or spaces allowed). A CA with the same subject and key as
  /// an expected one (a cross-signed or self-signed twin) counts as expected too.
  std::vector<std::string> expected_root_sha1;
  std::vector<std::string> expected_root_sha256;
  /// Names of the expected roots, for messages ("DigiCert Global Root G2").
  std::vector<std::string> expected_root_names;
  /// Optional SHA-256 pins of a SubjectPublicKeyInfo somewhere in the chain (base64 as in HPKP,
  /// optionally prefixed "sha256/" or "sha256//", or 64 hex digits). Empty: no pinning.
  std::vector<std::string> spki_pins;
  MinVersion min_version = MinVersion::tls1_2;
  /// TLS_CERT_EXPIRING (a warning) when a certificate in the chain expires within this many days.
  int expiry_warning_days = 14;
  /// ALPN protocols offered (the relay speaks HTTP/1.1 for the WebSocket upgrade).
  std::vector<std::string> alpn = {"http/1.1"};
  /// How the TCP connection under a direct probe is made.
  tcp::TcpOptions tcp;
  /// Reach the target through this proxy (a CONNECT tunnel) instead of directly.
  std::optional<proxy::ProxyEndpoint> proxy;
};

/// Checks fingerprints, pins and numbers without touching the network or files, so the CLI and
/// the profile loader can reject bad values up front (exit 2) with a one-line message.
core::Result<void> validate(const TlsOptions& options);

}  // namespace gwprobe::probes::tls
