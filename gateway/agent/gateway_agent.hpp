// The gateway agent: a Hybrid Connections listener that serves SQL queries. It holds a control
// channel to the relay (reconnecting with backoff, renewing its token, reporting its load) and,
// for each `accept`, opens the rendezvous and serves one query from its data sources.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "gateway/agent/query_server.hpp"
#include "gateway/agent/reconnect_schedule.hpp"
#include "gateway/relay/json_log.hpp"
#include "probes/proxy/proxy_options.hpp"

namespace gwprobe::gateway::agent {

struct GatewayAgentOptions {
  /// wss://host:port/$hc/PATH (ws:// only for tests against a plain server).
  std::string relay_url;
  /// SAS rule with Listen on PATH, and its key.
  std::string key_name;
  core::Secret key;
  /// CA bundle trusted for the relay's certificate, in addition to the system store.
  std::string ca_file;
  /// Reach the relay through this proxy (CONNECT tunnel), as the probes do.
  std::optional<probes::proxy::ProxyEndpoint> proxy;
  /// The data sources; the first is the default. Shared with the worker threads.
  std::shared_ptr<const DataSourceSet> datasources;
  /// Opens sealed credentials in queries (the identity key's GatewayKey::open); empty when the
  /// gateway has no identity.
  SealedOpener open_sealed;
  /// Queries run at once; more get QueryError stage busy.
  std::size_t workers = 4;
  /// Lifetime of each minted SAS token; renewToken is sent at 80% of it.
  std::chrono::seconds token_ttl{3600};
  /// How often gwprobeLoad is sent (the first right after connecting).
  std::chrono::milliseconds load_interval{10000};
  /// Longest a query may run before it is stopped (timeout from the data source).
  std::chrono::milliseconds query_timeout{std::chrono::minutes(5)};
  /// Budget for opening a connection (resolve, proxy, TLS, upgrade).
  std::chrono::milliseconds connect_timeout{10000};
  /// How long a client has to send its request after the rendezvous opened.
  std::chrono::milliseconds request_timeout{30000};
  /// On stop, how long running queries may go on before they are cut.
  std::chrono::milliseconds stop_grace{10000};
  /// Backoff between attempts to reach the relay.
  ReconnectSchedule::Settings reconnect;
};

/// Checks the options without the network (exit 2 material): the URL's shape, a key name and
/// key, at least one data source, workers >= 1.
core::Result<void> validate(const GatewayAgentOptions& options);

class GatewayAgent {
 public:
  GatewayAgent(GatewayAgentOptions options, std::shared_ptr<relay::JsonLog> log);
  ~GatewayAgent();
  GatewayAgent(const GatewayAgent&) = delete;
  GatewayAgent& operator=(const GatewayAgent&) = delete;

  /// Runs until `stop` fires: connects, serves, reconnects. Then closes the control channel,
  /// lets running queries finish (up to stop_grace) and returns. Fails only on invalid options;
  /// a relay that cannot be reached is retried, never a reason to return.
  core::Result<void> run(const core::CancelToken& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gwprobe::gateway::agent
