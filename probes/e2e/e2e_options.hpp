// Options of the end-to-end probe: a query sent through the relay to a gateway agent, whose
// answer must arrive whole (light header: no Boost here, so probe.hpp stays cheap to include).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::probes::e2e {

struct E2eOptions {
  static constexpr std::string_view kind = "e2e";

  /// The sender's leg: websocket.path is "/$hc/PATH?sb-hc-action=connect&sb-hc-id=..." (the id
  /// is replaced by a fresh one per connection) and
  /// websocket.token mints a token of a rule with Send rights. TLS, CA, proxy as for the probes.
  websocket::WebSocketOptions websocket;
  /// A name in the gateway's data-sources file; empty = the gateway's default.
  std::string datasource;
  std::string sql = "SELECT 1";
  /// A password already sealed to the gateway's public key ("gwp-sealed-v1:..."), or none.
  std::optional<std::string> sealed_credentials;
  /// The request id the answers must echo; empty = a random one per run.
  std::string request_id;
  /// Keep at most this many rows in the outcome (the CLI prints them; the check keeps none).
  /// Every row is still counted and hashed.
  std::size_t keep_rows = 0;
};

/// Checks what can be checked without the network (exit 2 material for the CLI).
core::Result<void> validate(const E2eOptions& options);

}  // namespace gwprobe::probes::e2e
