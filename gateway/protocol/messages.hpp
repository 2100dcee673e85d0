// Hybrid Connections control-channel messages (reference A.3): one JSON object per WebSocket
// text message, with a single top-level key naming the command. Parsing tolerates unknown
// fields (newer SDKs add them) and a numeric or string statusCode (hyco-https vs the doc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace gwprobe::gateway::protocol {

/// HTTP header list in arrival order; names keep their case, duplicates are allowed.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// Value of the first header named `name` (ASCII case-insensitive), or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name);

struct RemoteEndpoint {
  std::string address;
  std::uint16_t port = 0;
};

/// relay -> listener: a WebSocket sender waits; open `address` to accept (or add
/// sb-hc-statusCode/sb-hc-statusDescription to reject).
struct AcceptCommand {
  std::string address;
  std::string id;
  Headers connect_headers;
  std::optional<RemoteEndpoint> remote_endpoint;
};

/// relay -> listener (HTTP mode). Without `method` it is address-only: the listener opens
/// `address` and receives the full request there (large requests, reference A.3).
struct RequestCommand {
  std::string address;
  std::string id;
  std::optional<std::string> request_target;
  std::optional<std::string> method;
  std::optional<RemoteEndpoint> remote_endpoint;
  Headers request_headers;
  bool body = false;  ///< one binary message with the body follows
  bool address_only() const { return !method.has_value(); }
};

/// listener -> relay: the answer to a request, on the control channel or the rendezvous.
struct ResponseCommand {
  std::string request_id;
  int status_code = 0;
  std::string status_description;
  Headers response_headers;
  bool body = false;  ///< one binary message with the body follows
};

/// listener -> relay: a fresh token before the current one expires.
struct RenewTokenCommand {
  std::string token;
};

/// listener -> relay, gwprobe extension `{"gwprobeLoad":{"cpu":0.42,"memory":0.31}}`: the
/// agent's load as fractions 0..1, used to skip busy members. Listeners that never send it
/// (Microsoft's SDKs) count as load 0.
struct LoadReportCommand {
  double cpu = 0;
  double memory = 0;
};

/// A message the relay does not act on (e.g. .NET's test-only "injectFault"); kept so the
/// relay can log its name and carry on rather than drop the listener.
struct UnknownCommand {
  std::string name;
};

using ControlMessage = std::variant<AcceptCommand, RequestCommand, ResponseCommand,
                                    RenewTokenCommand, LoadReportCommand, UnknownCommand>;

/// Parses one control message. Fails (protocol) on invalid JSON, not exactly one top-level
/// key, or a known command missing a required field; the message never quotes a token.
core::Result<ControlMessage> parse_control_message(std::string_view json);

/// Serializes any control message to its one-line JSON form.
std::string serialize(const ControlMessage& message);

/// Parses a statusCode given as a number or a decimal string; 100..599 only.
core::Result<int> parse_status_code(std::string_view text);

}  // namespace gwprobe::gateway::protocol
