// Diagnosis: the stable codes that say what broke. Extend, never rename: users script against them.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace gwprobe::core {

/// One value per stable diagnosis string ("DNS_NXDOMAIN"). The enumerator is the code in
/// lower case; to_code() gives the upper-case string that appears in every report.
enum class Diagnosis {
  ok,
  // DNS
  dns_nxdomain,
  dns_nodata,
  dns_timeout,
  dns_servfail,
  dns_refused,
  dns_private_answer,
  dns_mismatch,
  // TCP
  tcp_filtered,
  tcp_refused,
  tcp_unreachable,
  // proxy
  proxy_unreachable,
  proxy_auth_required,
  proxy_auth_failed,
  proxy_connect_denied,
  // TLS
  tls_handshake_failed,
  tls_version_too_old,
  tls_intercepted,
  tls_untrusted,
  tls_cert_expired,
  tls_cert_expiring,
  tls_name_mismatch,
  tls_pin_mismatch,
  // WebSocket
  ws_upgrade_stripped,
  ws_upgrade_denied,
  ws_frames_blocked,
  // idle timeout
  idle_cut,
  // relay and end to end
  relay_auth_failed,
  relay_no_listener,
  e2e_query_failed,
  e2e_result_corrupt,
  // ExpressRoute and static firewall rules
  bgp_community_missing,
  bgp_unknown_geography,
  bgp_routes_missing,
  fw_blocks_required,
  fw_verdict_unknown,
  // not a network finding: the check could not give an answer
  probe_cancelled,
  probe_error,
  skipped,
};

/// Static facts about a code: its string, the layer it belongs to, and what it means.
struct DiagnosisInfo {
  Diagnosis diagnosis;
  std::string_view code;     ///< "DNS_NXDOMAIN"
  std::string_view layer;    ///< "dns", "tcp", "proxy", "tls", "websocket", "idle", "relay", ...
  std::string_view meaning;  ///< one sentence, as in the README's table
};

/// Every code, in declaration order (for the README table, `gwprobe codes`, and tests).
std::span<const DiagnosisInfo> all_diagnoses() noexcept;
const DiagnosisInfo& info(Diagnosis d) noexcept;
std::string_view to_code(Diagnosis d) noexcept;
std::optional<Diagnosis> diagnosis_from_code(std::string_view code) noexcept;

}  // namespace gwprobe::core
