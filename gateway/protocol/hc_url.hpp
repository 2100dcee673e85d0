// Hybrid Connections request targets: "/$hc/{path}?sb-hc-action=...&sb-hc-id=...&sb-hc-token=..."
// for WebSocket legs and "/{path}..." for HTTP-mode senders (reference A.2), plus the HTTP-mode
// header filtering rules (A.3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "gateway/protocol/messages.hpp"

namespace gwprobe::gateway::protocol {

enum class HcAction { none, listen, connect, accept, request };
std::string_view to_string(HcAction action);

/// A parsed request target. Values are percent-decoded; `request_target` is the original target
/// with every sb-hc-* query parameter removed (what a listener sees as requestTarget).
struct HcTarget {
  bool hc = false;   ///< the path starts with "/$hc/" (WebSocket leg)
  std::string path;  ///< decoded path without "/$hc/" and without surrounding slashes
  HcAction action = HcAction::none;
  std::optional<std::string> id;                  ///< sb-hc-id
  std::optional<std::string> token;               ///< sb-hc-token (decoded)
  std::optional<std::string> status_code;         ///< sb-hc-statusCode (listener rejects)
  std::optional<std::string> status_description;  ///< sb-hc-statusDescription
  std::optional<std::string> priority;            ///< gwprobe-priority (failover order; extension)
  std::string request_target;
};

/// Parses an origin-form target. Fails (invalid_input, i.e. HTTP 400) on a malformed escape, an
/// empty $hc path, or on a $hc target whose sb-hc-action is missing or unknown.
core::Result<HcTarget> parse_hc_target(std::string_view target);

/// The request target without sb-hc-* parameters (raw, not re-encoded).
std::string strip_hc_parameters(std::string_view target);

/// RFC 7230 connection headers the relay never forwards: Connection, Content-Length, Host, TE,
/// Trailer, Transfer-Encoding, Upgrade, Close, Keep-Alive, Proxy-Connection ("Via" is kept).
bool is_hop_by_hop_header(std::string_view name);

/// The headers an HTTP-mode `request` carries: hop-by-hop headers and the relay's own auth data
/// (ServiceBusAuthorization, and Authorization when it held the SAS token) removed.
Headers filter_request_headers(const Headers& headers, bool authorization_was_token);

/// The headers a WebSocket `accept` carries (connectHeaders): everything the sender sent, minus
/// ServiceBusAuthorization (and Authorization when it held the token).
Headers filter_connect_headers(const Headers& headers, bool authorization_was_token);

/// The listener's response headers the relay may copy to the sender: hop-by-hop removed.
Headers filter_response_headers(const Headers& headers);

/// A WebSocket URL for a Hybrid Connection: "<origin>/$hc/<path>?sb-hc-action=<action>" plus
/// "&sb-hc-id=<id>" when `id` is not empty. `origin` is "wss://host[:port]" (no trailing slash);
/// each path segment is percent-encoded. This is what listeners (the agent) and senders (the
/// client, the probes) dial; the token goes in the ServiceBusAuthorization header.
std::string hc_url(std::string_view origin, std::string_view path, HcAction action,
                   std::string_view id = {});

/// Appends `&name=value` (or `?name=value`) with value percent-encoded.
std::string append_query(std::string url, std::string_view name, std::string_view value);

}  // namespace gwprobe::gateway::protocol
