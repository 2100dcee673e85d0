// Everything `gwprobe relay` can be told: addresses, certificate, keys, routing and limits.
// Plain data with named defaults; no Asio here so the CLI and tests include it cheaply.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/protocol/sas.hpp"

namespace gwprobe::gateway::relay {

using namespace std::chrono_literals;

/// How a cluster (one path) picks among its online listeners.
enum class Routing {
  round_robin,  ///< rotate over eligible members
  failover,     ///< lowest gwprobe-priority first; ties go to the member online longest
};

/// Every buffer, queue and wait has a limit (style rule 7).
struct RelayLimits {
  std::size_t max_message_bytes = 16u << 20;    ///< one WebSocket message on any leg
  std::size_t max_http_body_bytes = 16u << 20;  ///< HTTP-mode request or response body
  std::size_t inline_body_bytes = 64u << 10;    ///< larger bodies go over a rendezvous (A.5)
  std::size_t max_header_bytes = 32u << 10;     ///< HTTP request header block (A.5)
  std::size_t max_pending_accepts_per_cluster = 128;
  std::size_t max_queued_messages = 256;              ///< per listener control channel
  std::size_t max_connections = 20000;                ///< TLS connections of all kinds
  std::chrono::milliseconds handshake_timeout = 10s;  ///< TCP accept to complete HTTP request
  std::chrono::milliseconds accept_timeout = 30s;     ///< sender held waiting for a rendezvous
  std::chrono::milliseconds http_response_timeout = 60s;
  std::chrono::milliseconds http_keepalive_timeout = 60s;
  /// Failed handshakes (401/403/400) per source address before it is blocked. hyco-ws reconnects
  /// with no backoff (466 attempts in 3 s): blocked sources are closed before the TLS handshake.
  std::size_t auth_failures_allowed = 20;
  std::chrono::milliseconds auth_failure_window = 10s;
  std::chrono::milliseconds auth_block_duration = 30s;
};

struct RelayConfig {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 9443;  ///< 0 picks a free port (tests)
  std::string cert_file;      ///< PEM server certificate (chain)
  std::string key_file;       ///< PEM private key
  protocol::KeyRing keys;
  Routing routing = Routing::round_robin;
  std::chrono::milliseconds ping_interval = 20s;  ///< relay -> listener WebSocket pings
  int max_missed_pongs = 2;                       ///< evict on the next tick after this many
  double max_load = 0.9;                          ///< skip members whose cpu or memory is above
  RelayLimits limits;
  int threads = 1;                                ///< io_context threads
  std::chrono::milliseconds shutdown_grace = 5s;  ///< stage one of shutdown, then stop hard
  bool handle_signals = false;                    ///< SIGINT/SIGTERM -> two-stage shutdown
};

std::string_view to_string(Routing routing);

}  // namespace gwprobe::gateway::relay
