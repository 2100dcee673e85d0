// Shared plan settings of `check` and `watch`.
#include "cli/profile_settings.hpp"

#include "cli/command.hpp"
#include "cli/relay_token.hpp"
#include "gateway/client/sealed_credentials.hpp"

namespace gwprobe::cli {

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::size_t start = 0;
    while (start <= item.size()) {
      const auto comma = item.find(',', start);
      const auto piece = item.substr(start, comma - start);
      if (!piece.empty()) out.push_back(piece);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

void apply_profile_settings(const rules::Profile& profile, const ProxyFlags& proxy,
                            PlanSettings& plan, std::vector<core::Note>& notes) {
  plan.proxy = resolve_proxy(proxy, profile.proxy);
  for (auto& note : proxy_notes(profile, plan)) notes.push_back(std::move(note));
  plan.relay_token_for = nullptr;
  if (!profile.relay.sas_key_name.empty() && !profile.relay.sas_key_file.empty()) {
    plan.relay_token_for = [name = profile.relay.sas_key_name,
                            file = profile.relay.sas_key_file](const std::string& url) {
      return relay_token_source(url, name, file);
    };
  }
  plan.sealed_credentials.reset();
  if (!profile.relay.gateway_public_key.empty() && !profile.relay.credentials_file.empty()) {
    // Sealed again on every run: a rotated password or gateway key is picked up.
    auto sealed = gateway::client::seal_credentials_file(profile.relay.gateway_public_key,
                                                         profile.relay.credentials_file);
    if (!sealed) usage_error("[relay] of profile " + profile.name + ": " + sealed.error().message);
    plan.sealed_credentials = std::move(sealed).value();
  }
  plan.relay_send_token_for = nullptr;
  const auto& send_rule = profile.relay.send_rule();
  const auto& send_key_file = profile.relay.send_rule_key_file();
  if (!send_rule.empty() && !send_key_file.empty()) {
    plan.relay_send_token_for = [name = send_rule, file = send_key_file](const std::string& url) {
      return relay_token_source(url, name, file);
    };
  }
}

}  // namespace gwprobe::cli
