// Relay tokens for the WebSocket and idle checks: a Hybrid Connections SAS token
// (reference/hybrid-connections-protocol.md A.6, minted by gateway/protocol/sas the way
// Microsoft's Node SDK does) for the listener URL, from a rule name and a key file.
#pragma once

#include <string>

#include "core/result.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::cli {

/// A TokenSource for `relay_url`: reads the key from `key_file` (its first line) and mints a
/// token valid for an hour each time a connection is opened. A missing or empty key file is an
/// error of the check that needs the token, never a crash; the key never appears in messages.
probes::websocket::TokenSource relay_token_source(std::string relay_url, std::string rule_name,
                                                  std::string key_file);

}  // namespace gwprobe::cli
