// Diagnosis rules: from probe results to advice, findings and a verdict. Pure functions of their
// inputs (no I/O, no clock), so every rule is a table test.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/probe_result.hpp"
#include "core/report.hpp"
#include "rules/profile.hpp"

namespace gwprobe::rules {

/// Fact keys the rules read from results when present (probes set them; all are optional and
/// the advice falls back to generic wording without them).
namespace fact {
inline constexpr std::string_view resolver = "resolver";    ///< DNS server asked: "10.0.0.53:53"
inline constexpr std::string_view addresses = "addresses";  ///< resolved addresses (list)
inline constexpr std::string_view issuer = "issuer";  ///< CA the chain ends at (the interceptor)
inline constexpr std::string_view tls_version = "tls_version";  ///< negotiated: "TLSv1.1"
inline constexpr std::string_view not_after = "not_after";  ///< expiry of the certificate at fault
inline constexpr std::string_view proxy = "proxy";          ///< proxy URL, already redacted
inline constexpr std::string_view proxy_auth = "proxy_auth";    ///< schemes offered: "NTLM, Basic"
inline constexpr std::string_view http_status = "http_status";  ///< status seen: 403, 426, 200
/// Seconds idle when the cut came (the idle probe's bracket lower end; also the Prometheus metric).
inline constexpr std::string_view idle_cut_s = "idle_cut_seconds";
inline constexpr std::string_view idle_cut_how = "idle_cut_how";  ///< "rst", "fin", "blackhole"
inline constexpr std::string_view missing_community = "missing_community";  ///< "12076:51003"
inline constexpr std::string_view geography = "geography";  ///< Power Platform geography
inline constexpr std::string_view rule = "rule";            ///< firewall rule that blocks
/// The e2e probe's (probes/e2e/e2e_probe.hpp): rows received, the gateway's "stage: message".
inline constexpr std::string_view e2e_rows = "e2e_rows";
inline constexpr std::string_view e2e_gateway_error = "e2e_gateway_error";
/// On a skipped result: the id of the failed result it depended on (the runner sets it). Without
/// it, diagnose() folds a skip into a finding with the same code on the same host.
inline constexpr std::string_view blocked_by = "blocked_by";
}  // namespace fact

/// The advice for `result`'s diagnosis code: concrete, naming the endpoint's documented host
/// ("*.servicebus.windows.net"), the port, and the facts the probe found (issuer, proxy,
/// resolver...). Every code has one. For endpoints whose probe host is a placeholder, the advice
/// starts with how to override it.
std::string advice_for(const core::ProbeResult& result, const Profile& profile);

/// Sets `result.advice` to advice_for() when the result did not pass (warn, fail, error) and the
/// probe left the advice empty. Probe-written advice is kept.
void fill_advice(core::ProbeResult& result, const Profile& profile);

/// Groups results into findings: one per (diagnosis, endpoint), affected ports merged
/// ("TCP 9350-9354 to *.servicebus.windows.net: filtered (optional in HTTPS mode)"). Results
/// skipped because a dependency failed are folded into that dependency's finding. Passing and
/// unselected (SKIPPED without a failed dependency) results make no finding. Order: fail, then
/// error, then warn; within each by layer (dns, tcp, proxy, tls, websocket, idle, relay, e2e,
/// bgp, firewall, then the rest); then by first appearance in `results`.
std::vector<core::Finding> diagnose(const std::vector<core::ProbeResult>& results,
                                    const Profile& profile);

/// not_ready when a required check failed or errored, or any check was cancelled
/// (PROBE_CANCELLED); degraded when something only warned (an optional check failing or
/// erroring counts as a warning); ready otherwise. `strict` turns degraded into not_ready.
core::Verdict verdict_for(const std::vector<core::ProbeResult>& results, bool strict);

}  // namespace gwprobe::rules
