// Plan builder: profile (what must be reachable) -> plan (which probes, in which order, on what).
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <functional>

#include "core/report.hpp"
#include "core/result.hpp"
#include "probes/idle/idle_options.hpp"
#include "probes/probe.hpp"
#include "probes/proxy/proxy_config.hpp"
#include "probes/resolve.hpp"
#include "probes/tls/tls_options.hpp"
#include "probes/websocket/websocket_options.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli {

/// Command-line adjustments to what the profile asks for.
struct PlanSettings {
  std::set<std::string> only_kinds;                  ///< empty = every kind the profile implies
  std::optional<std::chrono::milliseconds> timeout;  ///< per-check deadline override
  std::vector<std::string> extra_resolvers;          ///< --resolver, added to the profile's
  /// Only these check ids and the checks they depend on (`watch`'s /probe?check=ID); empty =
  /// all. An id the plan does not have is a not_found error naming the plan's ids.
  std::set<std::string> only_ids;
  /// How the "system resolver" is reached: resolv.conf, hosts file and server port. Defaults are
  /// the machine's; tests and labs point them at their own files and mock servers.
  probes::ResolverConfig resolver;
  /// The run's proxy, resolved from --proxy, the profile and the environment (default: none).
  probes::proxy::ProxyPlan proxy;
  /// Plan the idle-timeout checks (--with-idle) even when the profile's [idle] run is false.
  bool with_idle = false;
  /// --idle-required: overrides the profile's [idle] required.
  std::optional<std::chrono::seconds> idle_required;
  /// Live countdown of the idle checks (the CLI draws it; may be empty).
  std::function<void(const std::string& check_id, const probes::idle::IdleProgress&)> idle_progress;
  /// Relay tokens for the WebSocket and idle checks, per wss:// URL; empty = send none.
  std::function<probes::websocket::TokenSource(const std::string& url)> relay_token_for;
  /// The e2e check's token (the [relay] Send rule), per sender URL; empty = send none.
  std::function<probes::websocket::TokenSource(const std::string& url)> relay_send_token_for;
  /// The data-source password sealed to the gateway's key ([relay] credentials_file), if any.
  std::optional<std::string> sealed_credentials;
};

/// TLS probe options from a profile's [tls] settings: expected roots by fingerprint (with the
/// system trust store) or a CA file (which alone is trusted when no fingerprint is given).
probes::tls::TlsOptions tls_options_from(const rules::TlsSettings& settings);

/// The probe kinds `check` can plan, in layer order.
const std::vector<std::string>& plannable_kinds();

/// Builds the plan. Per endpoint and port reached directly: DNS once per host, TCP per port (after
/// DNS), TLS per port of TLS endpoints (after TCP), the WebSocket upgrade of websocket endpoints
/// (after TLS, or TCP for ws://). Per port reached through the proxy (settings.proxy, NO_PROXY
/// applied): a proxy check "proxy:HOST:PORT" (CONNECT, with the direct path compared as facts:
/// the gateway uses the proxy, so the direct path never fails the run), then TLS and the
/// WebSocket upgrade through the tunnel (ws:// as a forward request through an http:// proxy);
/// no local DNS check for such hosts (the proxy resolves them). The idle check, when asked for
/// (with_idle or [idle] run), follows the WebSocket check of the same target ([relay] url when
/// no endpoint has websocket = true). With a [relay] url and query, an "e2e:HOST:PORT" check sends
/// the query through the relay (after that target's WebSocket, TLS or transport check). Checks
/// shared by several endpoints are planned once and required if any endpoint requires them.
/// With `only_ids`, the plan keeps those checks and their dependencies, in plan order.
core::Result<std::vector<probes::ProbeSpec>> build_plan(const rules::Profile& profile,
                                                        const PlanSettings& settings);

/// Report notes on the proxy: which one and why, NO_PROXY, ignored settings, and each endpoint
/// port that bypasses it ("relay.corp:443 direct: NO_PROXY matched .corp"). Passwords redacted.
std::vector<core::Note> proxy_notes(const rules::Profile& profile, const PlanSettings& settings);

}  // namespace gwprobe::cli
