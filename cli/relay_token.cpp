// SAS tokens for the relay checks.
#include "cli/relay_token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/target.hpp"
#include "core/url.hpp"

namespace gwprobe::cli {

namespace {

/// How long a minted token is valid: as hyco-ws's default. The idle check opens its connections
/// at its start and needs them only for its ladder (minutes).
constexpr auto kTokenValidity = std::chrono::hours(1);

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

core::Result<std::string> sas_audience(std::string_view relay_url) {
  auto url = core::parse_url(relay_url);
  if (!url) return core::fail(url.error());
  std::string path = url->path.substr(0, url->path.find('?'));
  if (path.rfind("/$hc/", 0) == 0) path.erase(1, 4);
  const std::string host = core::Target{url->host, 0}.to_string();
  return "http://" + host + (url->explicit_port ? ":" + std::to_string(url->port) : "") + path;
}

std::string mint_sas_token(std::string_view audience, std::string_view rule_name,
                           const core::Secret& key, std::int64_t expiry_unix) {
  const std::string sr = core::percent_encode(audience);
  const std::string expiry = std::to_string(expiry_unix);
  const std::string to_sign = sr + "\n" + expiry;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.reveal().data(), static_cast<int>(key.reveal().size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &mac_size);
  return "SharedAccessSignature sr=" + sr + "&sig=" + core::percent_encode(base64(mac, mac_size)) +
         "&se=" + expiry + "&skn=" + core::percent_encode(rule_name);
}

probes::websocket::TokenSource relay_token_source(std::string relay_url, std::string rule_name,
                                                  std::string key_file) {
  return [relay_url = std::move(relay_url), rule_name = std::move(rule_name),
          key_file = std::move(key_file)]() -> core::Result<probes::websocket::RelayToken> {
    const auto audience = sas_audience(relay_url);
    if (!audience) return core::fail(audience.error());
    std::ifstream in(key_file, std::ios::binary);
    if (!in) {
      return core::fail(core::FailureKind::io, "cannot read the SAS key file " + key_file);
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string key = text.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
      key.pop_back();
    }
    if (key.empty()) {
      return core::fail(core::FailureKind::invalid_input,
                        "the SAS key file " + key_file + " is empty");
    }
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            (std::chrono::system_clock::now() + kTokenValidity).time_since_epoch())
                            .count();
    probes::websocket::RelayToken token;
    token.token = core::Secret(mint_sas_token(*audience, rule_name, core::Secret(key), expiry));
    token.description = "SAS rule " + rule_name + " for " + *audience + ", valid 1 h";
    return token;
  };
}

}  // namespace gwprobe::cli
