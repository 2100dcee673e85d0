// Options of the idle-timeout probe (light header: no Boost here, so probe.hpp stays cheap to
// include).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::probes::idle {

/// A snapshot of a running ladder, for the live countdown.
struct IdleProgress {
  std::size_t rungs = 0;     ///< connections in the ladder
  std::size_t resolved = 0;  ///< connections whose outcome is known
  std::chrono::steady_clock::duration elapsed{};
  std::chrono::steady_clock::duration remaining{};         ///< until the ladder ends at the latest
  std::optional<std::chrono::steady_clock::duration> cut;  ///< shortest failing idle so far
};
using ProgressCallback = std::function<void(const IdleProgress&)>;

/// The idle-timeout probe: `connections` WebSocket connections over the gateway's path, each
/// held silent for a different time up to `required` + margin, then pinged.
struct IdleOptions {
  static constexpr std::string_view kind = "idle";

  /// The path and the upgrade (proxy, TLS, relay token), as the WebSocket probe makes them.
  websocket::WebSocketOptions websocket;
  /// What the gateway needs: an idle connection must survive this long.
  std::chrono::seconds required{300};
  /// How far above the requirement the last rung holds; zero = 10 % (at least 1 s).
  std::chrono::milliseconds margin{0};
  /// Rungs of the ladder (2..32): more rungs, a tighter bracket, more connections.
  std::size_t connections = 8;
  /// How long a ping may wait for its pong before the connection counts as silently dropped.
  std::chrono::milliseconds pong_timeout{10'000};
  /// Called about once a second while the ladder runs (from the probe's thread).
  ProgressCallback progress;
};

/// How long a ladder with these options takes at most (its longest hold plus a pong wait):
/// what a check's deadline must leave room for, besides setting up the connections.
std::chrono::milliseconds longest_wait(const IdleOptions& options);

}  // namespace gwprobe::probes::idle
