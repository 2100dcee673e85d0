// TLS option parsing and validation (no network, no files).
#include "probes/tls/tls_options.hpp"

#include <algorithm>
#include <cctype>

#include "core/target.hpp"
#include "probes/tls/cert_facts.hpp"

namespace gwprobe::probes::tls {

namespace {
constexpr std::size_t kSha1Bytes = 20;
constexpr std::size_t kSha256Bytes = 32;
constexpr int kMaxExpiryWarningDays = 3650;
constexpr std::size_t kMaxAlpnLength = 255;  // one length byte on the wire
}  // namespace

core::Result<MinVersion> parse_min_version(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view prefix : {"tlsv", "tls"}) {
    if (t.rfind(prefix, 0) == 0) {
      t.erase(0, prefix.size());
      break;
    }
  }
  if (t == "1.2") return MinVersion::tls1_2;
  if (t == "1.3") return MinVersion::tls1_3;
  return core::fail(core::FailureKind::invalid_input,
                    "TLS minimum version '" + std::string(text) + "': expected 1.2 or 1.3");
}

std::string_view to_string(MinVersion v) noexcept {
  return v == MinVersion::tls1_3 ? "1.3" : "1.2";
}

core::Result<void> validate(const TlsOptions& options) {
  if (!options.servername.empty() && !core::is_valid_hostname(options.servername) &&
      !core::is_ip_literal(options.servername)) {
    return core::fail(core::FailureKind::invalid_input,
                      "server name '" + options.servername + "': expected a DNS name or an IP");
  }
  for (const auto& fp : options.expected_root_sha1) {
    auto r = normalize_fingerprint(fp, kSha1Bytes);
    if (!r) return core::fail(r.error());
  }
  for (const auto& fp : options.expected_root_sha256) {
    auto r = normalize_fingerprint(fp, kSha256Bytes);
    if (!r) return core::fail(r.error());
  }
  for (const auto& pin : options.spki_pins) {
    auto r = normalize_spki_pin(pin);
    if (!r) return core::fail(r.error());
  }
  if (options.expiry_warning_days < 0 || options.expiry_warning_days > kMaxExpiryWarningDays) {
    return core::fail(core::FailureKind::invalid_input,
                      "expiry_warning_days " + std::to_string(options.expiry_warning_days) +
                          ": expected 0 to " + std::to_string(kMaxExpiryWarningDays));
  }
  for (const auto& proto : options.alpn) {
    if (proto.empty() || proto.size() > kMaxAlpnLength) {
      return core::fail(core::FailureKind::invalid_input,
                        "ALPN protocol '" + proto + "': expected 1 to 255 bytes");
    }
  }
  if (!options.use_system_store && options.ca_file.empty()) {
    return core::fail(core::FailureKind::invalid_input,
                      "TLS options trust nothing: the system store is off and no CA file is given");
  }
  return {};
}

}  // namespace gwprobe::probes::tls
