// Relay tokens for the WebSocket and idle checks: a Hybrid Connections SAS token
// (reference/hybrid-connections-protocol.md A.6, minted the way Microsoft's Node SDK does) for
// the listener URL, from a rule name and a key file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::cli {

/// The audience a relay URL stands for: "wss://ns.example:9443/$hc/name?sb-hc-action=listen"
/// -> "http://ns.example:9443/name" (scheme http, query dropped, "$hc/" removed, an explicit
/// port kept, as hyco-ws does).
core::Result<std::string> sas_audience(std::string_view relay_url);

/// "SharedAccessSignature sr=<enc audience>&sig=<enc base64 HMAC-SHA256(key, enc audience + \n +
/// expiry)>&se=<expiry>&skn=<rule>", the key used as UTF-8 bytes (never base64-decoded).
std::string mint_sas_token(std::string_view audience, std::string_view rule_name,
                           const core::Secret& key, std::int64_t expiry_unix);

/// A TokenSource for `relay_url`: reads the key from `key_file` (its first line) and mints a
/// token valid for an hour each time a connection is opened. A missing or empty key file is an
/// error of the check that needs the token, never a crash; the key never appears in messages.
probes::websocket::TokenSource relay_token_source(std::string relay_url, std::string rule_name,
                                                  std::string key_file);

}  // namespace gwprobe::cli
