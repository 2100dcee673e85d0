// The WebSocket probe: the gateway's upgrade (direct, through a proxy tunnel, or as a forward
// request), then a frame round trip; and open_websocket, which the idle probe reuses.
#pragma once

#include <cstddef>
#include <optional>

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/probe.hpp"
#include "probes/websocket/websocket_client.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::probes::websocket {

/// Fact keys the WebSocket probe records (http_status is also what the rules read).
namespace fact {
inline constexpr std::string_view url = "ws_url";                  ///< wss://host:port/path
inline constexpr std::string_view http_status = "http_status";     ///< the upgrade's status
inline constexpr std::string_view status_line = "ws_status_line";  ///< "HTTP/1.1 426 ..."
inline constexpr std::string_view server = "ws_server";            ///< Server of the answer
inline constexpr std::string_view via = "ws_via";                  ///< Via of the answer
inline constexpr std::string_view answered_by = "ws_answered_by";  ///< server / proxy / unknown
inline constexpr std::string_view token = "ws_token";     ///< what was sent, never the token
inline constexpr std::string_view path_kind = "ws_path";  ///< direct, proxy tunnel, forward proxy
inline constexpr std::string_view ping_rtt_ms = "ws_ping_rtt_ms";
inline constexpr std::string_view end = "ws_end";  ///< how the connection ended, when it did
}  // namespace fact

/// Opens the gateway's path to `target` as `options` say (connect_tcp or a CONNECT tunnel, TLS
/// through run_tls_over when use_tls, or a TCP connection to the proxy for a forward request),
/// adds it to `group` and sends the upgrade (with the relay token when options.token is set).
/// Records phases (resolve, connect, proxy, tls, upgrade) and facts into `into`. Returns the
/// connection's id after a 101; otherwise sets into's status, diagnosis (a lower layer's, or
/// judge_upgrade_answer's) and message and returns nullopt. Never throws.
std::optional<std::size_t> open_websocket(const core::Target& target,
                                          const WebSocketOptions& options,
                                          const ProbeContext& context, WebSocketGroup& group,
                                          core::ProbeResult& into) noexcept;

/// open_websocket, then a ping that must be answered by a pong (and with options.echo a text
/// message that must come back): pass = OK with the upgrade time as the "upgrade" phase and the
/// round trip as "transfer". 101 without a pong before the deadline, or a connection that ends
/// right after the upgrade -> WS_FRAMES_BLOCKED (a close with 1008 -> RELAY_AUTH_FAILED).
core::ProbeResult run_websocket_probe(const core::Target& target, const WebSocketOptions& options,
                                      const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::websocket
