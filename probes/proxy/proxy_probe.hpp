// The proxy probe: can a CONNECT tunnel to the target be opened through the proxy, and (when
// asked) does the direct path work too?
#pragma once

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/probe.hpp"
#include "probes/proxy/proxy_options.hpp"

namespace gwprobe::probes::proxy {

/// open_tunnel to `target`, then close. Pass = OK with the proxy's status line, Server, Via and
/// the auth scheme as facts, phases connect (to the proxy) and proxy (CONNECT). With
/// options.compare_direct, a direct connect_tcp to the target runs at the same time (same
/// deadline); its outcome is recorded as facts ("direct_path", "direct_diagnosis") and in the
/// message, and never changes the verdict: the gateway uses the proxy when one is set.
core::ProbeResult run_proxy_probe(const core::Target& target, const ProxyOptions& options,
                                  const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::proxy
