// The diagnosis-code table: one row per code, kept in declaration order (a test checks it).
#include "core/diagnosis.hpp"

#include <array>

namespace gwprobe::core {

namespace {
using D = Diagnosis;
constexpr std::array kTable = {
    DiagnosisInfo{D::ok, "OK", "any", "The check passed."},
    DiagnosisInfo{D::dns_nxdomain, "DNS_NXDOMAIN", "dns",
                  "The resolver says the name does not exist (NXDOMAIN): often an internal-only "
                  "or split DNS that lacks the public zone."},
    DiagnosisInfo{D::dns_nodata, "DNS_NODATA", "dns",
                  "The name exists but has no A or AAAA record."},
    DiagnosisInfo{D::dns_timeout, "DNS_TIMEOUT", "dns",
                  "No DNS answer before the deadline: resolver down, or UDP/TCP 53 blocked."},
    DiagnosisInfo{D::dns_servfail, "DNS_SERVFAIL", "dns",
                  "The resolver failed to resolve the name (SERVFAIL): broken forwarder or "
                  "DNSSEC failure."},
    DiagnosisInfo{D::dns_refused, "DNS_REFUSED", "dns",
                  "The resolver refused the query (REFUSED, or the port was closed)."},
    DiagnosisInfo{D::dns_private_answer, "DNS_PRIVATE_ANSWER", "dns",
                  "A public name resolved to a private, loopback, link-local, CGNAT or ULA "
                  "address: a private endpoint, a sinkhole, or a stale hosts entry."},
    DiagnosisInfo{D::dns_mismatch, "DNS_MISMATCH", "dns",
                  "Resolvers disagree about the name (split DNS): the gateway may reach a "
                  "different place than expected."},
    DiagnosisInfo{D::tcp_filtered, "TCP_FILTERED", "tcp",
                  "No answer to the connection attempt before the deadline: a firewall drops "
                  "the traffic silently."},
    DiagnosisInfo{D::tcp_refused, "TCP_REFUSED", "tcp",
                  "The connection was actively refused (TCP reset or ICMP port-unreachable)."},
    DiagnosisInfo{D::tcp_unreachable, "TCP_UNREACHABLE", "tcp",
                  "No route: host or network unreachable, or administratively prohibited."},
    DiagnosisInfo{D::proxy_unreachable, "PROXY_UNREACHABLE", "proxy",
                  "The proxy itself could not be reached or resolved."},
    DiagnosisInfo{D::proxy_auth_required, "PROXY_AUTH_REQUIRED", "proxy",
                  "The proxy demands authentication (407) and no credentials were given."},
    DiagnosisInfo{D::proxy_auth_failed, "PROXY_AUTH_FAILED", "proxy",
                  "The proxy rejected the credentials that were given (407)."},
    DiagnosisInfo{D::proxy_connect_denied, "PROXY_CONNECT_DENIED", "proxy",
                  "The proxy refused to open a tunnel to the destination (403 or another "
                  "non-2xx answer to CONNECT)."},
    DiagnosisInfo{D::tls_handshake_failed, "TLS_HANDSHAKE_FAILED", "tls",
                  "The TLS handshake failed (alert, reset or protocol error)."},
    DiagnosisInfo{D::tls_version_too_old, "TLS_VERSION_TOO_OLD", "tls",
                  "Only TLS versions older than the required minimum (1.2) could be negotiated."},
    DiagnosisInfo{D::tls_intercepted, "TLS_INTERCEPTED", "tls",
                  "The certificate chain ends at a CA outside the expected roots: TLS inspection "
                  "re-signs the traffic and breaks the gateway."},
    DiagnosisInfo{D::tls_untrusted, "TLS_UNTRUSTED", "tls",
                  "The certificate chain is not trusted and does not look like interception "
                  "(self-signed, incomplete chain, unknown CA)."},
    DiagnosisInfo{D::tls_cert_expired, "TLS_CERT_EXPIRED", "tls",
                  "A certificate in the chain has expired or is not yet valid."},
    DiagnosisInfo{D::tls_cert_expiring, "TLS_CERT_EXPIRING", "tls",
                  "A certificate in the chain expires soon (warning)."},
    DiagnosisInfo{D::tls_name_mismatch, "TLS_NAME_MISMATCH", "tls",
                  "The certificate does not name the host that was asked for."},
    DiagnosisInfo{D::tls_pin_mismatch, "TLS_PIN_MISMATCH", "tls",
                  "No certificate in the chain matches the profile's SPKI pins."},
    DiagnosisInfo{D::ws_upgrade_stripped, "WS_UPGRADE_STRIPPED", "websocket",
                  "The WebSocket upgrade never reached the server: a proxy removed the Upgrade "
                  "header (426, 200 or 400 instead of 101)."},
    DiagnosisInfo{D::ws_upgrade_denied, "WS_UPGRADE_DENIED", "websocket",
                  "A proxy refused the WebSocket upgrade (403 or 405)."},
    DiagnosisInfo{D::ws_frames_blocked, "WS_FRAMES_BLOCKED", "websocket",
                  "The upgrade succeeded (101) but WebSocket frames do not pass."},
    DiagnosisInfo{D::idle_cut, "IDLE_CUT", "idle",
                  "Something on the path cuts idle connections sooner than the gateway "
                  "requires (300 s)."},
    DiagnosisInfo{D::relay_auth_failed, "RELAY_AUTH_FAILED", "relay",
                  "The relay rejected the SAS token (401/403, or closed with 1008)."},
    DiagnosisInfo{D::relay_no_listener, "RELAY_NO_LISTENER", "relay",
                  "The relay has no gateway listening for the path (cluster)."},
    DiagnosisInfo{D::e2e_query_failed, "E2E_QUERY_FAILED", "e2e",
                  "The query reached the gateway but failed there (the data source's own "
                  "message is given)."},
    DiagnosisInfo{D::e2e_result_corrupt, "E2E_RESULT_CORRUPT", "e2e",
                  "The query result arrived incomplete or altered (row count or SHA-256 "
                  "trailer mismatch)."},
    DiagnosisInfo{D::bgp_community_missing, "BGP_COMMUNITY_MISSING", "bgp",
                  "The ExpressRoute route filter lacks a regional BGP community the Power "
                  "Platform geography needs."},
    DiagnosisInfo{D::bgp_unknown_geography, "BGP_UNKNOWN_GEOGRAPHY", "bgp",
                  "The geography is not one gwprobe knows."},
    DiagnosisInfo{D::bgp_routes_missing, "BGP_ROUTES_MISSING", "bgp",
                  "The route filter allows a needed community, but no route tagged with it "
                  "arrives in the BGP table."},
    DiagnosisInfo{D::fw_blocks_required, "FW_BLOCKS_REQUIRED", "firewall",
                  "The firewall ruleset drops or rejects a destination the gateway requires."},
    DiagnosisInfo{D::fw_verdict_unknown, "FW_VERDICT_UNKNOWN", "firewall",
                  "The ruleset uses something static evaluation cannot know (named in the "
                  "message), so whether it allows the destination is unknown."},
    DiagnosisInfo{D::probe_cancelled, "PROBE_CANCELLED", "any",
                  "The check was interrupted (Ctrl-C or the run's overall deadline)."},
    DiagnosisInfo{D::probe_error, "PROBE_ERROR", "any",
                  "gwprobe could not run the check (local error, e.g. out of descriptors)."},
    DiagnosisInfo{D::skipped, "SKIPPED", "any",
                  "The check was not run (not selected, or a check it depends on failed)."},
};
}  // namespace

std::span<const DiagnosisInfo> all_diagnoses() noexcept {
  return kTable;
}

const DiagnosisInfo& info(Diagnosis d) noexcept {
  return kTable[static_cast<std::size_t>(d)];
}

std::string_view to_code(Diagnosis d) noexcept {
  return info(d).code;
}

std::optional<Diagnosis> diagnosis_from_code(std::string_view code) noexcept {
  for (const auto& row : kTable) {
    if (row.code == code) return row.diagnosis;
  }
  return std::nullopt;
}

}  // namespace gwprobe::core
