// Options of the WebSocket upgrade probe (light header: no Boost here, so probe.hpp stays cheap
// to include).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "probes/proxy/proxy_options.hpp"
#include "probes/tcp/tcp_options.hpp"
#include "probes/tls/tls_options.hpp"

namespace gwprobe::probes::websocket {

/// A relay credential, minted when a connection is opened (tokens expire, and the idle probe
/// opens its connections minutes after the plan was made).
struct RelayToken {
  core::Secret token;       ///< "SharedAccessSignature sr=...&sig=...&se=...&skn=..."
  std::string description;  ///< for facts, never the token: "SAS rule gateway, valid 1 h"
};
using TokenSource = std::function<core::Result<RelayToken>()>;

/// How the upgrade is shaped and over what it runs. The port comes from the Target.
struct WebSocketOptions {
  static constexpr std::string_view kind = "websocket";

  /// Request target of the upgrade, as the gateway sends it: "/$hc/PATH?sb-hc-action=listen".
  std::string path = "/";
  /// wss:// (TLS with `tls`, then the upgrade) or ws://.
  bool use_tls = true;
  /// Trust and SNI for wss:// (its own proxy and tcp fields are ignored: see below).
  tls::TlsOptions tls;
  /// How a direct connection is made.
  tcp::TcpOptions tcp;
  /// Reach the target through this proxy: a CONNECT tunnel, or with forward_proxy a plain
  /// forward request.
  std::optional<proxy::ProxyEndpoint> proxy;
  /// ws:// through an http:// proxy as a browser-era forward request: the upgrade is sent to
  /// the proxy with an absolute URI (GET http://host:port/path), so the proxy sees, and may
  /// strip or refuse, the Upgrade header. Only for use_tls = false.
  bool forward_proxy = false;
  /// Mints the relay's SAS token, sent in ServiceBusAuthorization; empty = no token.
  TokenSource token;
  /// After the ping round trip, also send a text message and expect it back (for echo servers;
  /// a relay's control channel does not echo).
  bool echo = false;
};

/// Checks what can be checked without the network (exit 2 material for the CLI).
core::Result<void> validate(const WebSocketOptions& options);

}  // namespace gwprobe::probes::websocket
