// What an answer to a WebSocket upgrade means: pure, so every row is a table test.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/diagnosis.hpp"

namespace gwprobe::probes::websocket {

/// The path the upgrade request took, which decides who can have answered it.
enum class UpgradePath {
  tls_end_to_end,  ///< wss://, directly or through a CONNECT tunnel: only the server can answer
  plain_direct,    ///< ws:// directly: a transparent middlebox may answer
  plain_tunnel,    ///< ws:// through a CONNECT tunnel: the proxy saw only the CONNECT
  forward_proxy,   ///< ws:// as a forward request: the proxy read (and may rewrite) the upgrade
};

/// The HTTP answer to the upgrade.
struct UpgradeAnswer {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received

  /// Value of the header (case-insensitive name), "" when absent; repeated headers joined ", ".
  std::string header(std::string_view name) const;
};

/// Who answered, as far as the headers tell.
enum class Answerer { server, proxy, unknown };

struct UpgradeVerdict {
  core::Diagnosis diagnosis = core::Diagnosis::ok;
  Answerer answered_by = Answerer::unknown;
  std::string reason;  ///< one line, without the host (callers add it)
};

/// True when the headers carry a proxy's marks: Via, X-Squid-Error, Proxy-Connection,
/// Proxy-Agent, X-Cache, or a Server naming a known proxy (squid, tinyproxy, haproxy, ...).
bool looks_like_proxy(const UpgradeAnswer& answer);

/// The verdict on a non-101 answer: 426, 200 and 400 -> WS_UPGRADE_STRIPPED (the upgrade did not
/// reach a WebSocket server); 401 -> RELAY_AUTH_FAILED; 403 -> WS_UPGRADE_DENIED when a proxy
/// answered (its marks, or a forward proxy), RELAY_AUTH_FAILED when only the server can have
/// (TLS end to end), else WS_UPGRADE_DENIED saying the sender is unknown; 405 and 3xx ->
/// WS_UPGRADE_DENIED; 407 -> PROXY_AUTH_REQUIRED / PROXY_AUTH_FAILED (by `sent_proxy_credentials`);
/// 502/503/504 from a forward proxy -> PROXY_CONNECT_DENIED; 404 and anything else ->
/// PROBE_ERROR naming the status. `sent_token` words 401/403 honestly when no token was sent.
UpgradeVerdict judge_upgrade_answer(const UpgradeAnswer& answer, UpgradePath path, bool sent_token,
                                    bool sent_proxy_credentials);

}  // namespace gwprobe::probes::websocket
