// Query flags -> QueryOptions.
#include "cli/query_flags.hpp"

#include <cstdio>

#include "cli/command.hpp"
#include "cli/plan_builder.hpp"
#include "cli/relay_token.hpp"
#include "core/url.hpp"
#include "gateway/client/sealed_credentials.hpp"

namespace gwprobe::cli {

void add_query_flags(CLI::App& command, QueryFlags& flags, const std::string& relay_option) {
  command
      .add_option(relay_option, flags.relay,
                  "The gateway's Hybrid Connection: wss://HOST[:PORT]/$hc/PATH")
      ->required();
  command.add_option("--key-name", flags.key_name, "SAS rule with Send rights (e.g. client)");
  command.add_option("--key-file", flags.key_file, "File holding that rule's key (never printed)");
  command.add_option("--ca-file", flags.ca_file,
                     "Trust only these CA certificates (PEM) for the relay (default: the system "
                     "store)");
  command.add_option("--servername", flags.servername, "SNI and name to verify (default: HOST)");
  command.add_option("--datasource", flags.datasource,
                     "Data source name on the gateway (default: the gateway's default)");
  command.add_option(
      "--gateway-public-key", flags.gateway_public_key,
      "The gateway's public key (gateway-identity.pub): seal --credentials-file to it");
  command.add_option("--credentials-file", flags.credentials_file,
                     "File holding the data-source password, sent sealed (never in clear)");
  add_proxy_flags(command, flags.proxy);
}

gateway::client::QueryOptions query_options(const QueryFlags& flags, const std::string& sql) {
  gateway::client::QueryOptions o;
  o.relay_url = flags.relay;
  o.sql = sql;
  o.datasource = flags.datasource;
  if (flags.key_name.empty() != flags.key_file.empty()) {
    usage_error("--key-name and --key-file go together");
  }
  if (!flags.key_name.empty()) {
    if (std::FILE* key = std::fopen(flags.key_file.c_str(), "rb")) {
      std::fclose(key);
    } else {
      usage_error("--key-file: cannot read " + flags.key_file);
    }
    o.token_for = [name = flags.key_name, file = flags.key_file](const std::string& url) {
      return relay_token_source(url, name, file);
    };
  }
  rules::TlsSettings trust;
  trust.ca_file = flags.ca_file;
  o.tls = tls_options_from(trust);
  o.tls.servername = flags.servername;
  if (flags.gateway_public_key.empty() != flags.credentials_file.empty()) {
    usage_error("--gateway-public-key and --credentials-file go together");
  }
  // The URL is checked first, so that the proxy is resolved for a real host.
  auto prepared = gateway::client::prepare_query(o);
  if (!prepared) usage_error(prepared.error().message);
  o.proxy = probes::proxy::proxy_for(resolve_proxy(flags.proxy, {}), prepared->target).proxy;
  if (!flags.gateway_public_key.empty()) {
    auto sealed =
        gateway::client::seal_credentials_file(flags.gateway_public_key, flags.credentials_file);
    if (!sealed) usage_error(sealed.error().message);
    o.sealed_credentials = std::move(sealed).value();
  }
  return o;
}

}  // namespace gwprobe::cli
