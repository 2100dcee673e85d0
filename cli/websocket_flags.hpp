// What `gwprobe probe websocket` and `gwprobe probe idle` share: the URL or HOST:PORT, TLS trust,
// the proxy, the relay token, and the WebSocketOptions they make.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/proxy_flags.hpp"
#include "core/target.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::cli {

struct WebSocketFlags {
  std::string url;  ///< wss://HOST[:PORT]/PATH, ws://..., or HOST[:PORT]
  std::string path;
  bool plain = false;  ///< --ws: no TLS for a HOST[:PORT] target
  std::string servername;
  std::string ca_file;
  std::string roots = "public";
  std::string sas_key_name;
  std::string sas_key_file;
  bool tunnel = false;  ///< ws:// through an http:// proxy as CONNECT, not a forward request
  ProxyFlags proxy;
};

/// Adds the positional URL and the flags.
void add_websocket_flags(CLI::App& command, WebSocketFlags& flags);

struct WebSocketTarget {
  core::Target target;
  probes::websocket::WebSocketOptions options;
  std::string url;  ///< ws(s)://host:port/path, what the token is minted for
};

/// Parses and checks the flags (usage_error on bad input) into a target and options, the
/// proxy resolved for the target (NO_PROXY honoured) and the relay token source attached when
/// --sas-key-name and --sas-key-file are given.
WebSocketTarget websocket_target(const WebSocketFlags& flags);

}  // namespace gwprobe::cli
