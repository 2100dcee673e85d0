// judge_upgrade_answer: the table from HTTP answers to diagnoses.
#include "probes/websocket/upgrade_verdict.hpp"

#include <strings.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace gwprobe::probes::websocket {

namespace {

using core::Diagnosis;

constexpr std::array kProxyHeaders = {"via",         "x-squid-error", "proxy-connection",
                                      "proxy-agent", "x-cache",       "x-cache-lookup"};
constexpr std::array kProxyProducts = {
    "squid",     "tinyproxy", "haproxy",  "bluecoat",   "zscaler",
    "privoxy",   "polipo",    "mcafee",   "forcepoint", "websense",
    "fortigate", "cisco",     "ironport", "netcache",   "apache traffic server",
    "ats/"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string status_text(const UpgradeAnswer& a) {
  return std::to_string(a.status) + (a.reason.empty() ? "" : " " + a.reason);
}

std::string who(Answerer answerer) {
  switch (answerer) {
    case Answerer::proxy:
      return "the proxy";
    case Answerer::server:
      return "the server";
    case Answerer::unknown:
      break;
  }
  return "something on the path";
}

UpgradeVerdict verdict(Diagnosis d, Answerer by, std::string reason) {
  return UpgradeVerdict{d, by, std::move(reason)};
}

}  // namespace

std::string UpgradeAnswer::header(std::string_view name) const {
  std::string joined;
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size() || ::strncasecmp(k.data(), name.data(), name.size()) != 0) continue;
    if (!joined.empty()) joined += ", ";
    joined += v;
  }
  return joined;
}

bool looks_like_proxy(const UpgradeAnswer& answer) {
  for (const auto* name : kProxyHeaders) {
    if (!answer.header(name).empty()) return true;
  }
  const std::string server = lower(answer.header("server"));
  return std::any_of(kProxyProducts.begin(), kProxyProducts.end(),
                     [&](const char* p) { return server.find(p) != std::string::npos; });
}

UpgradeVerdict judge_upgrade_answer(const UpgradeAnswer& answer, UpgradePath path, bool sent_token,
                                    bool sent_proxy_credentials) {
  const bool proxy_marks = looks_like_proxy(answer);
  Answerer by = Answerer::unknown;
  if (path == UpgradePath::tls_end_to_end || path == UpgradePath::plain_tunnel) {
    // Inside a tunnel (or TLS) a proxy relays bytes it cannot rewrite: the server answered, even
    // when it sits behind its own front end that adds Via.
    by = Answerer::server;
  } else if (proxy_marks) {
    by = Answerer::proxy;
  }
  const std::string status = status_text(answer);
  const int s = answer.status;

  if (s == 426 || s == 200 || s == 400) {
    std::string reason =
        "the upgrade never reached a WebSocket server: answered " + status + " instead of 101";
    if (path == UpgradePath::forward_proxy) {
      reason += " (the forward proxy removed the Upgrade header)";
    } else if (path == UpgradePath::plain_direct) {
      reason += " (a middlebox on the path removed the Upgrade header)";
    } else {
      reason += " (something that terminates TLS, or the server itself, dropped the Upgrade)";
    }
    return verdict(Diagnosis::ws_upgrade_stripped, by, std::move(reason));
  }
  if (s == 407) {
    return sent_proxy_credentials
               ? verdict(Diagnosis::proxy_auth_failed, Answerer::proxy,
                         "the proxy rejected the credentials (407) for the upgrade")
               : verdict(Diagnosis::proxy_auth_required, Answerer::proxy,
                         "the proxy requires authentication (407) for the upgrade");
  }
  if (s == 401) {
    return verdict(Diagnosis::relay_auth_failed, by == Answerer::proxy ? by : Answerer::server,
                   sent_token ? "the relay rejected the SAS token (" + status + ")"
                              : "the relay requires a SAS token (" + status +
                                    ") and none is configured: the upgrade reached the relay, "
                                    "but 101 and WebSocket frames are not proven");
  }
  if (s == 403) {
    if (by == Answerer::proxy || path == UpgradePath::forward_proxy) {
      return verdict(Diagnosis::ws_upgrade_denied, Answerer::proxy,
                     "the proxy refused the WebSocket upgrade (" + status + ")");
    }
    if (by == Answerer::server) {
      return verdict(
          Diagnosis::relay_auth_failed, Answerer::server,
          sent_token
              ? "the relay refused the token for this path or action (" + status + ")"
              : "the relay refused the upgrade (" + status + "); no SAS token is configured");
    }
    return verdict(Diagnosis::ws_upgrade_denied, Answerer::unknown,
                   "the upgrade was refused (" + status +
                       "; the answer carries no proxy headers, so a transparent middlebox or the "
                       "server sent it)");
  }
  if (s == 405 || (s >= 300 && s < 400)) {
    std::string reason = who(by) + " refused the upgrade (" + status;
    if (const auto location = answer.header("location"); !location.empty()) {
      reason += ", redirecting to " + location;
    }
    return verdict(Diagnosis::ws_upgrade_denied, by, reason + ")");
  }
  if ((s == 502 || s == 503 || s == 504) && (path == UpgradePath::forward_proxy || proxy_marks)) {
    return verdict(Diagnosis::proxy_connect_denied, Answerer::proxy,
                   "the proxy could not forward the upgrade (" + status + ")");
  }
  if (s == 404) {
    return verdict(Diagnosis::probe_error, by,
                   "no WebSocket endpoint at this path (404): check the endpoint's "
                   "websocket_path (the relay's hybrid connection name)");
  }
  return verdict(Diagnosis::probe_error, by, who(by) + " answered the upgrade with " + status);
}

}  // namespace gwprobe::probes::websocket
