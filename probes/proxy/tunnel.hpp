// CONNECT tunnels through a proxy (libcurl), handed to the TLS probe and the WebSocket client
// as a ByteStream: the raw socket for http:// and SOCKS proxies, a stream over
// curl_easy_send/recv for https:// proxies (TLS inside the proxy's TLS, which libcurl owns).
#pragma once

#include <memory>

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/probe.hpp"
#include "probes/proxy/proxy_options.hpp"
#include "probes/tls/byte_stream.hpp"

namespace gwprobe::probes::proxy {

/// Fact keys the tunnel records (rules/diagnosis.hpp reads "proxy", "proxy_auth" and
/// "http_status").
namespace fact {
inline constexpr std::string_view proxy = "proxy";                ///< the proxy URL, redacted
inline constexpr std::string_view proxy_source = "proxy_source";  ///< "from HTTPS_PROXY"
inline constexpr std::string_view proxy_addresses = "proxy_addresses";
inline constexpr std::string_view proxy_status = "proxy_status";  ///< "HTTP/1.1 200 ..."
inline constexpr std::string_view http_status = "http_status";    ///< the CONNECT status (number)
inline constexpr std::string_view proxy_server = "proxy_server";  ///< its Server header
inline constexpr std::string_view proxy_via = "proxy_via";        ///< its Via header
inline constexpr std::string_view proxy_error = "proxy_error";    ///< squid's X-Squid-Error
inline constexpr std::string_view proxy_auth = "proxy_auth";  ///< schemes offered: "NTLM, Basic"
inline constexpr std::string_view proxy_auth_used = "proxy_auth_used";  ///< "Basic" or "none"
}  // namespace fact

/// Opens a CONNECT tunnel to `target` through `proxy` (libcurl: CURLOPT_CONNECT_ONLY +
/// CURLOPT_HTTPPROXYTUNNEL, the multi interface polled together with context.cancel, curl's own
/// timeouts taken from context.deadline). The proxy's host is resolved through
/// context.addresses (so --resolv-conf and the lab's resolvers apply), never by curl. Records the
/// "resolve", "connect" (TCP to the proxy) and "proxy" (the rest until the tunnel is up) phases
/// and the facts above into `into`; on failure also sets status, diagnosis (PROXY_*,
/// TCP_FILTERED, PROBE_CANCELLED, PROBE_ERROR; mapped by from_curl) and message, and returns
/// null. Never throws; never writes a password anywhere.
std::unique_ptr<tls::ByteStream> open_tunnel(const core::Target& target, const ProxyEndpoint& proxy,
                                             const ProbeContext& context,
                                             core::ProbeResult& into) noexcept;

}  // namespace gwprobe::probes::proxy
