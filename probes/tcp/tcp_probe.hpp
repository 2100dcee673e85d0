// TCP connect probe, and the connect step that the TLS, proxy and WebSocket probes build on.
#pragma once

#include <string>

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "core/unique_fd.hpp"
#include "probes/probe.hpp"
#include "probes/tcp/tcp_options.hpp"

namespace gwprobe::probes::tcp {

/// A connected, blocking-mode-off TCP socket and the address it reached.
struct TcpConnection {
  core::UniqueFd fd;  ///< invalid when the connect failed
  std::string peer;   ///< "10.0.0.1:443" / "[::1]:443" of the address that answered
  explicit operator bool() const { return static_cast<bool>(fd); }
};

/// Resolves `target` (through context.addresses when set), connects to every address in
/// parallel (non-blocking, bounded by context.deadline, woken by context.cancel) and keeps the
/// first that answers. Records the "resolve" and "connect" phases and facts ("addresses",
/// "connected_to", per-address outcomes) into `into`; on failure also sets its status,
/// diagnosis (DNS_*, TCP_FILTERED / TCP_REFUSED / TCP_UNREACHABLE, PROBE_CANCELLED) and
/// message, and returns an invalid connection. Higher-layer probes call this first and carry on
/// with the same ProbeResult, so one result shows every layer's phases.
TcpConnection connect_tcp(const core::Target& target, const TcpOptions& options,
                          const ProbeContext& context, core::ProbeResult& into) noexcept;

/// The TCP probe: connect_tcp, then close. Pass = OK with the connect time as a phase.
core::ProbeResult run_tcp_probe(const core::Target& target, const TcpOptions& options,
                                const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::tcp
