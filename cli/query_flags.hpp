// What `gwprobe query` and `gwprobe probe e2e` share: the relay URL, the Send rule, trust, the
// data source, sealed credentials and the proxy, and the QueryOptions they make.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/proxy_flags.hpp"
#include "gateway/client/query_client.hpp"

namespace gwprobe::cli {

struct QueryFlags {
  std::string relay;  ///< wss://HOST[:PORT]/$hc/PATH
  std::string key_name;
  std::string key_file;
  std::string ca_file;
  std::string servername;
  std::string datasource;
  std::string gateway_public_key;
  std::string credentials_file;
  ProxyFlags proxy;
};

/// Adds the flags (the relay URL as `relay_option`: "--relay" or a positional "relay").
void add_query_flags(CLI::App& command, QueryFlags& flags, const std::string& relay_option);

/// Checks the flags (usage_error, exit 2, on bad input: a URL that is not a relay path, a key
/// name without a key file, a public key without a credentials file, an unreadable key or
/// credentials file) and assembles the QueryOptions, with the Send token source, the proxy
/// resolved for the relay (NO_PROXY honoured) and the credentials sealed.
gateway::client::QueryOptions query_options(const QueryFlags& flags, const std::string& sql);

}  // namespace gwprobe::cli
