// The gateway client: a query through the relay to a gateway agent (`gwprobe query`, and the
// e2e check's plan): the sender's URL, its Send token, trust, proxy and sealed credentials, then
// the exchange of probes/e2e.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/target.hpp"
#include "probes/e2e/e2e_probe.hpp"
#include "probes/probe.hpp"
#include "probes/proxy/proxy_options.hpp"
#include "probes/tls/tls_options.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::gateway::client {

/// What to ask and how to reach the gateway.
struct QueryOptions {
  /// The Hybrid Connection: "wss://relay:9443/$hc/PATH" or "wss://relay:9443/PATH" (ws:// for a
  /// plain relay). Any query part is ignored: the client adds its own sb-hc-* parameters.
  std::string relay_url;
  /// Mints a token of a rule with Send rights for the URL it is given (cli/relay_token.hpp);
  /// called with the sender's URL. Empty = no token (the relay answers 401).
  std::function<probes::websocket::TokenSource(const std::string& url)> token_for;
  /// Trust (CA file, pins) and minimum version for wss://.
  probes::tls::TlsOptions tls;
  std::optional<probes::proxy::ProxyEndpoint> proxy;
  std::string datasource;  ///< empty = the gateway's default data source
  std::string sql;
  /// Already sealed to the gateway's public key (seal_credentials_file); none = the gateway's own.
  std::optional<std::string> sealed_credentials;
  /// Rows kept for printing (all are counted and hashed).
  std::size_t keep_rows = 0;
};

/// The sender's target and e2e probe options, ready for exchange_query or a plan.
struct PreparedQuery {
  core::Target target;
  probes::e2e::E2eOptions options;
  std::string relay_url;  ///< scheme://host:port/$hc/PATH, without sb-hc-* parameters
};

/// Checks and assembles everything without the network. Fails (invalid_input) on a relay URL
/// that is not ws:// or wss:// with a host and a path, or on an empty query.
core::Result<PreparedQuery> prepare_query(const QueryOptions& options);

/// What a query brought back: the verdict (result), and on success the columns and rows.
using QueryOutcome = probes::e2e::QueryExchange;

/// prepare_query, then exchange_query under `context`'s deadline and cancel token. Invalid
/// options come back as PROBE_ERROR with the reason; lower-layer failures keep their diagnosis
/// (DNS_*, TCP_*, TLS_*, PROXY_*); relay and gateway failures are RELAY_AUTH_FAILED,
/// RELAY_NO_LISTENER, E2E_QUERY_FAILED or E2E_RESULT_CORRUPT. Never throws.
QueryOutcome send_query(const QueryOptions& options, const probes::ProbeContext& context) noexcept;

}  // namespace gwprobe::gateway::client
