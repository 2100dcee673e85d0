// Plan builder: profile (what must be reachable) -> plan (which probes, in which order, on what).
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "probes/probe.hpp"
#include "probes/resolve.hpp"
#include "probes/tls/tls_options.hpp"
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
};

/// TLS probe options from a profile's [tls] settings: expected roots by fingerprint (with the
/// system trust store) or a CA file (which alone is trusted when no fingerprint is given).
probes::tls::TlsOptions tls_options_from(const rules::TlsSettings& settings);

/// The probe kinds `check` can plan, in layer order.
const std::vector<std::string>& plannable_kinds();

/// Builds the plan: per endpoint, DNS once per host, TCP per port (after DNS), TLS per port of
/// TLS endpoints (after TCP), WebSocket upgrade for relay endpoints (after TLS). Checks shared by
/// several endpoints are planned once and required if any endpoint requires them.
/// With `only_ids`, the plan keeps those checks and their dependencies, in plan order.
core::Result<std::vector<probes::ProbeSpec>> build_plan(const rules::Profile& profile,
                                                        const PlanSettings& settings);

}  // namespace gwprobe::cli
