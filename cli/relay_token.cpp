// SAS tokens for the relay checks.
#include "cli/relay_token.hpp"

#include <chrono>

#include "core/secret_file.hpp"
#include "gateway/protocol/sas.hpp"

namespace gwprobe::cli {

namespace {

/// How long a minted token is valid: as hyco-ws's default. The idle check opens its connections
/// at its start and needs them only for its ladder (minutes).
constexpr auto kTokenValidity = std::chrono::hours(1);

}  // namespace

probes::websocket::TokenSource relay_token_source(std::string relay_url, std::string rule_name,
                                                  std::string key_file) {
  return [relay_url = std::move(relay_url), rule_name = std::move(rule_name),
          key_file = std::move(key_file)]() -> core::Result<probes::websocket::RelayToken> {
    const auto audience =
        gateway::protocol::sas_resource_uri(relay_url, gateway::protocol::SdkStyle::node);
    if (!audience) return core::fail(audience.error());
    auto key = core::read_secret_file(key_file, "the SAS key file");
    if (!key) return core::fail(key.error());
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            (std::chrono::system_clock::now() + kTokenValidity).time_since_epoch())
                            .count();
    probes::websocket::RelayToken token;
    token.token =
        core::Secret(gateway::protocol::create_sas_token(*audience, rule_name, *key, expiry));
    token.description = "SAS rule " + rule_name + " for " + *audience + ", valid 1 h";
    return token;
  };
}

}  // namespace gwprobe::cli
