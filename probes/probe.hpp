// The probe contract: one signature for every probe, one variant of options, one dispatch.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/dns/dns_options.hpp"
#include "probes/e2e/e2e_options.hpp"
#include "probes/idle/idle_options.hpp"
#include "probes/proxy/proxy_options.hpp"
#include "probes/tcp/tcp_options.hpp"
#include "probes/tls/tls_options.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::probes {

class AddressCache;

/// What a running probe may use: its one deadline, the run's cancel token, and per-run shared
/// services. Every wait inside a probe is bounded by `deadline` and wakes on `cancel`.
struct ProbeContext {
  core::Deadline deadline = core::Deadline::never();
  core::CancelToken cancel;
  /// Per-run cache of host -> addresses (so 10 ports of one host resolve once); may be null.
  AddressCache* addresses = nullptr;
};

/// The options of every probe kind. Adding a probe = a folder + one alternative here + one line
/// in run_probe's dispatch.
using ProbeOptions =
    std::variant<dns::DnsOptions, tcp::TcpOptions, tls::TlsOptions, proxy::ProxyOptions,
                 websocket::WebSocketOptions, idle::IdleOptions, e2e::E2eOptions>;

/// One entry of a plan: what to probe, how, and how it is labelled in reports.
struct ProbeSpec {
  std::string id;  ///< unique in the plan, e.g. "tcp:localhost:443"
  core::Target target;
  std::string endpoint;  ///< profile endpoint name, for grouping in reports
  bool required = true;
  std::chrono::milliseconds timeout{5000};
  ProbeOptions options;
  /// Indices of earlier specs that must pass (or warn) first; if one fails, this is skipped.
  std::vector<std::size_t> depends_on;
};

/// "dns", "tcp", ... (the options type's `kind`).
std::string_view kind_of(const ProbeOptions& options) noexcept;

/// Runs one probe synchronously. Never throws: a bug or local failure becomes status `error`
/// with PROBE_ERROR. Fills kind and target; the caller stamps id, endpoint, required, duration.
core::ProbeResult run_probe(const ProbeSpec& spec, const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes
