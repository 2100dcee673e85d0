// The idle-timeout probe: the parallel ladder over real WebSocket connections.
#pragma once

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/idle/idle_options.hpp"
#include "probes/probe.hpp"

namespace gwprobe::probes::idle {

/// Fact keys (idle_cut_seconds is what the Prometheus writer exports and the rules read).
namespace fact {
inline constexpr std::string_view cut_seconds = "idle_cut_seconds";  ///< the bracket's lower end
inline constexpr std::string_view cut_how = "idle_cut_how";  ///< fin, rst, close_frame, blackhole
inline constexpr std::string_view bracket = "idle_bracket";  ///< "2.857 s - 3.001 s"
inline constexpr std::string_view bracket_low = "idle_bracket_low_seconds";
inline constexpr std::string_view bracket_high = "idle_bracket_high_seconds";
inline constexpr std::string_view measured = "idle_cut_measured_seconds";  ///< seen as it happened
inline constexpr std::string_view survived = "idle_survived_seconds";
inline constexpr std::string_view required = "idle_required_seconds";
inline constexpr std::string_view rungs = "idle_rungs";  ///< one line per connection
inline constexpr std::string_view peer_traffic = "idle_peer_traffic";
}  // namespace fact

/// Opens options.connections WebSocket connections with websocket::open_websocket (the first
/// one's phases and facts go into the result; if it fails, so does the probe, with its
/// diagnosis), proves frames pass on each with a ping, then holds them silent in parallel
/// (ladder_holds) and pings each when its hold ends, watching every connection the whole time so
/// a FIN, RST or close frame is seen the moment it comes. Total time ~ the longest hold needed.
/// IDLE_CUT when a connection failed at or below `required`; facts: the bracket, its lower end
/// as idle_cut_seconds, how the connection died, each rung's outcome. Needs a deadline that
/// leaves room for longest_wait(); calls options.progress about once a second. Never throws.
core::ProbeResult run_idle_probe(const core::Target& target, const IdleOptions& options,
                                 const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::idle
