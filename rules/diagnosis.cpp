// Diagnosis rules: advice per code, findings grouped per (code, endpoint), the verdict.
#include "rules/diagnosis.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <tuple>

#include "core/diagnosis.hpp"
#include "core/target.hpp"
#include "core/url.hpp"

namespace gwprobe::rules {

namespace {

using core::Diagnosis;
using core::Status;

/// Finding order by layer; codes of other layers ("any") come last.
constexpr std::array kLayerOrder = {"dns",  "tcp",   "proxy", "tls", "websocket",
                                    "idle", "relay", "e2e",   "bgp", "firewall"};

std::size_t layer_rank(Diagnosis d) {
  const auto layer = core::info(d).layer;
  for (std::size_t i = 0; i < kLayerOrder.size(); ++i) {
    if (layer == kLayerOrder[i]) return i;
  }
  return kLayerOrder.size();
}

int severity_rank(Status s) {
  switch (s) {
    case Status::fail:
      return 0;
    case Status::error:
      return 1;
    default:
      return 2;
  }
}

bool is_problem(Status s) {
  return s == Status::warn || s == Status::fail || s == Status::error;
}

struct TargetParts {
  std::string host;
  std::optional<std::uint16_t> port;
};

/// "host:443" / "[::1]:443" / "host"; anything else (a URL, a geography) is kept whole.
TargetParts split_target(const std::string& target) {
  auto parsed = core::parse_target(target, std::nullopt, false);
  if (!parsed) return {target, std::nullopt};
  TargetParts parts{parsed->host, std::nullopt};
  if (parsed->port != 0) parts.port = parsed->port;
  return parts;
}

/// "443", "9350-9354", "443, 9350-9354".
std::string format_ports(std::vector<std::uint16_t> ports) {
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  std::string out;
  for (std::size_t i = 0; i < ports.size();) {
    std::size_t j = i;
    while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(ports[i]);
    if (j > i) out += "-" + std::to_string(ports[j]);
    i = j + 1;
  }
  return out;
}

const Endpoint* find_endpoint(const Profile& profile, const std::string& name) {
  if (name.empty()) return nullptr;
  for (const auto& e : profile.endpoints) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

/// What the advice and summary texts are made from: one result's facts plus where it points.
struct Context {
  const core::ProbeResult& result;
  const Profile& profile;
  const Endpoint* endpoint = nullptr;
  std::string host;        ///< the documented host ("*.servicebus.windows.net") or the target
  std::string probe_host;  ///< the host actually probed
  std::string ports;       ///< "443", "9350-9354"; empty when the check has no port

  std::string fact(std::string_view key) const { return result.fact_text(key); }
  /// " at X" / " (X)" style fragments: `before` + fact + `after`, or "" without the fact.
  std::string fact_fragment(std::string_view key, std::string_view before,
                            std::string_view after = {}) const {
    const auto value = fact(key);
    if (value.empty()) return {};
    return std::string(before) + value + std::string(after);
  }
  /// The zone a DNS fix is about: the wildcard's domain, or the host itself.
  std::string zone() const { return host.rfind("*.", 0) == 0 ? host.substr(2) : host; }
  std::string port_text() const {
    return ports.empty() ? std::string("the required ports") : ports;
  }
  /// True when the check resolved only to loopback addresses (127/8, ::1).
  bool all_addresses_loopback() const {
    auto loopback = [](const std::string& a) { return a == "::1" || a.rfind("127.", 0) == 0; };
    const auto* value = result.fact(fact::addresses);
    const auto* list = value ? std::get_if<std::vector<std::string>>(value) : nullptr;
    if (list == nullptr || list->empty()) return loopback(probe_host);  // an IP literal target
    for (const auto& a : *list) {
      if (!loopback(a)) return false;
    }
    return true;
  }
  bool tcp_mode() const {
    return endpoint != nullptr && endpoint->requirement == Requirement::tcp_mode;
  }
  /// The proxy as the probe reported it, else the profile's (password redacted), else generic.
  std::string proxy() const {
    if (auto from_probe = fact(fact::proxy); !from_probe.empty()) return from_probe;
    if (!profile.proxy.url.empty()) {
      if (auto url = core::parse_url(profile.proxy.url, "http")) return url->redacted();
      return "configured in the profile";
    }
    return "on the path";
  }
};

Context make_context(const core::ProbeResult& result, const Profile& profile,
                     std::vector<std::uint16_t> ports) {
  const Endpoint* endpoint = find_endpoint(profile, result.endpoint);
  const auto target = split_target(result.target);
  if (ports.empty() && target.port) ports.push_back(*target.port);
  return Context{result,
                 profile,
                 endpoint,
                 endpoint ? endpoint->host : target.host,
                 endpoint ? endpoint->probe_host : target.host,
                 format_ports(std::move(ports))};
}

std::string tcp_mode_note(const Context& c) {
  if (!c.tcp_mode()) return {};
  return c.profile.https_mode
             ? " In HTTPS mode (this profile) the gateway does not need these ports: keep it in "
               "HTTPS mode, or open them to run it in TCP mode."
             : " Or set the gateway to HTTPS mode (gateway app > Network > HTTPS mode): it then "
               "needs only 443.";
}

std::string resolver_at(const Context& c) {
  return c.fact_fragment(fact::resolver, " at ");
}

/// The advice for one code. A switch, not a table, so that a new code without advice is a
/// compile error (-Wswitch) as well as a test failure.
std::string code_advice(Diagnosis d, const Context& c) {
  switch (d) {
    case Diagnosis::ok:
      return "Nothing to change.";
    case Diagnosis::dns_nxdomain:
      return "The resolver" + resolver_at(c) + " says " + c.probe_host +
             " does not exist. Make the DNS this machine uses resolve public names under " +
             c.zone() + ": forward " + c.zone() +
             " to a resolver that sees public DNS, or remove the internal zone that hides it.";
    case Diagnosis::dns_nodata:
      return c.probe_host + " exists but has no A or AAAA record" + resolver_at(c) +
             ": check the internal zone or forwarder that answers for " + c.zone() +
             "; the gateway needs an address for " + c.host + ".";
    case Diagnosis::dns_timeout:
      return "No DNS answer" + c.fact_fragment(fact::resolver, " from ") + " for " + c.probe_host +
             ": check that the resolver is up and that this machine may send DNS to it (UDP and "
             "TCP port 53 through the firewall).";
    case Diagnosis::dns_servfail:
      return "The resolver" + resolver_at(c) + " failed to resolve " + c.probe_host +
             " (SERVFAIL): check its forwarders and DNSSEC validation for " + c.zone() + ".";
    case Diagnosis::dns_refused:
      return "The resolver" + resolver_at(c) +
             " refuses queries from this machine: allow recursion for this client, or point the "
             "machine at a resolver that answers.";
    case Diagnosis::dns_private_answer:
      return c.probe_host + " resolved to a private address" +
             c.fact_fragment(fact::addresses, " (", ")") + ": unless " + c.host +
             " is meant to go through a private endpoint, remove the internal DNS override, "
             "sinkhole (RPZ) or hosts-file entry for " +
             c.zone() + ".";
    case Diagnosis::dns_mismatch:
      return "Resolvers disagree about " + c.probe_host +
             " (split DNS): make the internal zone for " + c.zone() +
             " forward to public DNS, or confirm that the internal answer is a deliberate "
             "private endpoint.";
    case Diagnosis::tcp_filtered:
      return "Allow outbound TCP " + c.port_text() + " from this machine to " + c.host +
             " on the firewall (connection attempts were dropped without an answer)." +
             tcp_mode_note(c);
    case Diagnosis::tcp_refused:
      if (c.all_addresses_loopback()) {
        // No firewall sits on loopback: a refusal there means nothing listens on the port.
        return "Nothing is listening on " + c.probe_host + ":" + c.port_text() +
               (c.profile.cloud == "local"
                    ? ": start the bundled relay (`gwprobe relay`, or run scripts/demo.sh)."
                    : ": start the service, or check the port.");
      }
      return "Something refused TCP " + c.port_text() + " to " + c.host +
             " (a reset or port-unreachable: typically a firewall REJECT rule, or a network where "
             "only the proxy may connect out): allow outbound TCP " +
             c.port_text() + " to " + c.host +
             ", or set the proxy (--proxy or HTTPS_PROXY) if direct connections are not allowed." +
             tcp_mode_note(c);
    case Diagnosis::tcp_unreachable:
      return "There is no route to " + c.host + c.fact_fragment(fact::addresses, " (", ")") +
             ": check this machine's default route and egress routing, and any ACL that "
             "prohibits TCP " +
             c.port_text() + " to " + c.host + "." + tcp_mode_note(c);
    case Diagnosis::proxy_unreachable:
      return "The proxy " + c.proxy() +
             " could not be reached: check its host and port (--proxy, HTTPS_PROXY or [proxy] "
             "url), that its name resolves, and that this machine may connect to it.";
    case Diagnosis::proxy_auth_required:
      return "The proxy " + c.proxy() + " requires authentication" +
             c.fact_fragment(fact::proxy_auth, " (it offers ", ")") +
             ": give credentials ([proxy] credentials_file, or the user in --proxy), or exempt "
             "this machine or " +
             c.host +
             " from proxy authentication. The gateway's service account must be able to "
             "authenticate too.";
    case Diagnosis::proxy_auth_failed:
      return "The proxy " + c.proxy() +
             " rejected the credentials: check the user name, password and domain (NTLM and "
             "Negotiate: DOMAIN\\user) and [proxy] auth (now \"" +
             c.profile.proxy.auth + "\").";
    case Diagnosis::proxy_connect_denied:
      return "The proxy " + c.proxy() + " refuses CONNECT to " + c.host + " port " + c.port_text() +
             c.fact_fragment(fact::http_status, " (HTTP ", ")") + ": allow " + c.host +
             " on port " + c.port_text() +
             " in the proxy's CONNECT rules (many proxies allow CONNECT only to 443)." +
             tcp_mode_note(c);
    case Diagnosis::tls_handshake_failed:
      return "The TLS handshake with " + c.probe_host +
             " failed: check for a proxy or firewall "
             "that resets or blocks TLS to " +
             c.host + ", and that TLS " + c.profile.tls.min_version +
             " or later with current ciphers is allowed.";
    case Diagnosis::tls_version_too_old:
      return "Only " +
             (c.fact(fact::tls_version).empty() ? std::string("an older TLS version")
                                                : c.fact(fact::tls_version)) +
             " could be negotiated with " + c.host + ": allow TLS " + c.profile.tls.min_version +
             " or later on the path (proxy or firewall TLS policy) and on this machine (Windows: "
             "SchUseStrongCrypto = 1 for .NET).";
    case Diagnosis::tls_intercepted:
      return "Add " + c.host + " to the TLS-inspection bypass list of " +
             (c.fact(fact::issuer).empty() ? std::string("the inspecting proxy or firewall")
                                           : c.fact(fact::issuer)) +
             ": the gateway needs the chain to end at the Microsoft/DigiCert roots, and "
             "re-signed certificates break it.";
    case Diagnosis::tls_untrusted: {
      std::string advice = "The certificate chain of " + c.probe_host + " is not trusted" +
                           c.fact_fragment(fact::issuer, " (it ends at ", ")") + ": ";
      if (!c.profile.tls.ca_file.empty()) {
        return advice + "check that " + c.profile.tls.ca_file +
               " holds the CA that signed the server's certificate.";
      }
      return advice + "if a proxy re-signs traffic, bypass TLS inspection for " + c.host +
             "; otherwise install the missing intermediate or update this machine's root "
             "certificates.";
    }
    case Diagnosis::tls_cert_expired:
      return "A certificate in the chain of " + c.probe_host + " is expired or not yet valid" +
             c.fact_fragment(fact::not_after, " (not after ", ")") +
             ": check this machine's clock; if the chain ends at an inspecting proxy, renew that "
             "proxy's CA certificate or bypass " +
             c.host + ".";
    case Diagnosis::tls_cert_expiring:
      return "A certificate in the chain of " + c.probe_host + " expires soon" +
             c.fact_fragment(fact::not_after, " (", ")") +
             ": if it belongs to an inspecting proxy or your own CA, renew it before then.";
    case Diagnosis::tls_name_mismatch:
      return "The certificate presented for " + c.probe_host +
             " does not name it: something "
             "other than " +
             c.host +
             " answers (a proxy, a captive portal or a wrong DNS entry); check the DNS and proxy "
             "rules for " +
             c.host + ".";
    case Diagnosis::tls_pin_mismatch:
      return "No certificate of " + c.probe_host +
             " matches [tls] spki_pins: the server key changed or the traffic is re-signed; "
             "bypass TLS inspection for " +
             c.host + ", or update the pins.";
    case Diagnosis::ws_upgrade_stripped:
      return "A proxy on the path strips the WebSocket upgrade to " + c.host +
             c.fact_fragment(fact::http_status, " (HTTP ", " instead of 101)") +
             ": allow WebSocket (HTTP Upgrade) to " + c.host +
             " on the proxy, or bypass the proxy for " + c.host + ".";
    case Diagnosis::ws_upgrade_denied:
      return "The proxy refuses WebSocket upgrades to " + c.host +
             c.fact_fragment(fact::http_status, " (HTTP ", ")") +
             ": allow WebSocket (HTTP Upgrade) to " + c.host + " in the proxy policy.";
    case Diagnosis::ws_frames_blocked:
      return "WebSocket frames to " + c.host +
             " do not pass after the upgrade: disable content inspection or buffering of "
             "WebSocket traffic to " +
             c.host + " on the proxy or firewall.";
    case Diagnosis::idle_cut: {
      const auto required = std::to_string(c.profile.idle.required.count());
      return "Idle connections to " + c.host + " are cut" +
             c.fact_fragment(fact::idle_cut_s, " after ", " s") +
             c.fact_fragment(fact::idle_cut_how, " (", ")") + ", but the gateway needs at least " +
             required + " s: raise the idle timeout of the proxy, NAT or firewall on the path to " +
             required + " s or more (or exempt " + c.host + " from it).";
    }
    case Diagnosis::relay_auth_failed: {
      if (c.result.kind == "e2e") {
        // The sender's leg: the Send rule, not the gateway's Listen rule.
        const auto& rule = c.profile.relay.send_rule();
        const auto& key_file = c.profile.relay.send_rule_key_file();
        return "The relay rejected the client's SAS token" +
               c.fact_fragment(fact::http_status, " (HTTP ", ")") +
               ": check [relay] send_key_name" + (rule.empty() ? "" : " (\"" + rule + "\")") +
               " and the key in " + (key_file.empty() ? "[relay] send_key_file" : key_file) +
               " (or --key-name/--key-file), that the rule has Send rights on the path, and "
               "this machine's clock (tokens expire).";
      }
      return "The relay rejected the SAS token: check [relay] sas_key_name" +
             (c.profile.relay.sas_key_name.empty()
                  ? std::string()
                  : " (\"" + c.profile.relay.sas_key_name + "\")") +
             " and the key in " +
             (c.profile.relay.sas_key_file.empty() ? std::string("[relay] sas_key_file")
                                                   : c.profile.relay.sas_key_file) +
             ", that the rule has Listen (gateway) or Send (client) rights on the path, and this "
             "machine's clock (tokens expire).";
    }
    case Diagnosis::relay_no_listener: {
      std::string path = "the relay path";
      if (auto url = core::parse_url(c.profile.relay.url)) path = url->path;
      const auto status = c.fact(fact::http_status);
      std::string why;
      if (status == "503") {
        why =
            " (the relay answered 503: its gateways are busy or over their load threshold, "
            "or the relay is shutting down)";
      } else if (status == "502" || status == "504") {
        why = " (the relay answered " + status +
              ": a gateway is registered but did not accept the connection in time)";
      } else if (!status.empty()) {
        why = " (the relay answered " + status + ")";
      }
      return "No gateway listens on " + path + why +
             ": start the gateway (gwprobe gateway run, or the gateway service), check that it "
             "is registered to this path (cluster) and that its log shows the accept.";
    }
    case Diagnosis::e2e_query_failed: {
      const auto error = c.fact(fact::e2e_gateway_error);
      const auto stage = error.substr(0, error.find(':'));
      const std::string query =
          c.profile.relay.query.empty() ? std::string() : " (" + c.profile.relay.query + ")";
      if (stage == "datasource") {
        return "The gateway has no data source by that name" +
               (c.profile.relay.datasource.empty() ? std::string()
                                                   : " (\"" + c.profile.relay.datasource + "\")") +
               ": set [relay] datasource (or --datasource) to one in the gateway's data-sources "
               "file.";
      }
      if (stage == "credentials") {
        return "The gateway could not open the sealed credentials: seal them to this gateway's "
               "current public key ([relay] gateway_public_key, or --gateway-public-key, from its "
               "gateway.pub).";
      }
      if (stage == "busy") {
        return "The gateway is at its concurrency limit: rerun later, or raise its limit.";
      }
      if (stage == "request") {
        return "The gateway refused the request itself" +
               c.fact_fragment(fact::e2e_gateway_error, " (", ")") +
               ": shorten the query or check that client and gateway are the same gwprobe "
               "version.";
      }
      return "The query reached the gateway but the data source failed" +
             c.fact_fragment(fact::e2e_gateway_error, " (", ")") +
             ": check the data source's credentials and that it is up, and that the query" + query +
             " is valid there.";
    }
    case Diagnosis::e2e_result_corrupt:
      return "The result arrived truncated or altered (row count or SHA-256 mismatch, or the "
             "stream ended early" +
             c.fact_fragment(fact::e2e_rows, " after ", " rows") +
             "): something on the path modifies or cuts the stream, or the relay or gateway "
             "restarted mid-answer; bypass content inspection for " +
             c.host + ", check the gateway's log, and rerun.";
    case Diagnosis::bgp_community_missing:
      return "Add " +
             (c.fact(fact::missing_community).empty() ? std::string("the missing community")
                                                      : c.fact(fact::missing_community)) +
             " to the ExpressRoute route filter: Power Platform needs both regional BGP "
             "communities of its geography" +
             c.fact_fragment(fact::geography, " (", ")") + ".";
    case Diagnosis::bgp_unknown_geography:
      return "Set [bgp] geography to a Power Platform geography gwprobe knows (for example "
             "\"Europe\" or \"United States\").";
    case Diagnosis::bgp_routes_missing:
      return "The route filter allows " +
             (c.fact(fact::missing_community).empty() ? std::string("the community")
                                                      : c.fact(fact::missing_community)) +
             " but no route tagged with it arrives: check that the route filter is attached to "
             "the circuit's Microsoft peering and that the BGP session is up.";
    case Diagnosis::fw_blocks_required:
      return "Change the firewall ruleset so that it accepts traffic to " + c.result.target +
             c.fact_fragment(fact::rule, " (rule ", " drops or rejects it)") +
             ": the gateway requires it.";
    case Diagnosis::fw_verdict_unknown:
      return "gwprobe cannot tell from the ruleset alone whether traffic to " + c.result.target +
             " is accepted (the message says what it cannot know): give the missing facts "
             "(--oif, --iif, --source) or test the path with the TCP probe.";
    case Diagnosis::probe_cancelled:
      return "The check was interrupted before it finished: rerun it (with a longer --timeout "
             "if the run's deadline cut it short).";
    case Diagnosis::probe_error:
      return "gwprobe could not run this check (see the message): fix the local problem and "
             "rerun.";
    case Diagnosis::skipped:
      return "Fix the check this one depends on, then rerun.";
  }
  return "Rerun the check.";
}

/// For network failures on a placeholder probe host, the first thing to fix is the host itself.
std::string placeholder_note(const Context& c) {
  if (c.endpoint == nullptr || !c.endpoint->probe_host_is_example) return {};
  const auto layer = core::info(c.result.diagnosis).layer;
  if (layer != "dns" && layer != "tcp" && layer != "proxy" && layer != "tls" &&
      layer != "websocket" && layer != "idle") {
    return {};
  }
  std::string note = c.probe_host + " is only a placeholder for " + c.host +
                     ": rerun with --probe-host '" + c.host + "=YOUR-HOST'";
  if (c.host.find(".servicebus.") != std::string::npos) {
    note +=
        " (your relay namespace is in the gateway app's Diagnostics > Network ports test "
        "results)";
  }
  return note + ". ";
}

std::string advice_text(const Context& c) {
  return placeholder_note(c) + code_advice(c.result.diagnosis, c);
}

/// The short "what happened" of a finding summary.
std::string summary_phrase(const Context& c) {
  switch (c.result.diagnosis) {
    case Diagnosis::ok:
      return "passed";
    case Diagnosis::dns_nxdomain:
      return "name does not exist (NXDOMAIN)";
    case Diagnosis::dns_nodata:
      return "no A or AAAA record";
    case Diagnosis::dns_timeout:
      return "no DNS answer (timeout)";
    case Diagnosis::dns_servfail:
      return "resolver failure (SERVFAIL)";
    case Diagnosis::dns_refused:
      return "query refused by the resolver";
    case Diagnosis::dns_private_answer:
      return "resolves to a private address" + c.fact_fragment(fact::addresses, " (", ")");
    case Diagnosis::dns_mismatch:
      return "resolvers disagree (split DNS)";
    case Diagnosis::tcp_filtered:
      return "filtered";
    case Diagnosis::tcp_refused:
      return "refused";
    case Diagnosis::tcp_unreachable:
      return "unreachable";
    case Diagnosis::proxy_unreachable:
      return "proxy unreachable";
    case Diagnosis::proxy_auth_required:
      return "proxy requires authentication";
    case Diagnosis::proxy_auth_failed:
      return "proxy rejected the credentials";
    case Diagnosis::proxy_connect_denied:
      return "denied by the proxy" + c.fact_fragment(fact::http_status, " (HTTP ", ")");
    case Diagnosis::tls_handshake_failed:
      return "handshake failed";
    case Diagnosis::tls_version_too_old:
      return "TLS version too old" + c.fact_fragment(fact::tls_version, " (", ")");
    case Diagnosis::tls_intercepted:
      return c.fact(fact::issuer).empty() ? std::string("intercepted (re-signed by TLS inspection)")
                                          : "intercepted by " + c.fact(fact::issuer);
    case Diagnosis::tls_untrusted:
      return "certificate not trusted";
    case Diagnosis::tls_cert_expired:
      return "certificate expired";
    case Diagnosis::tls_cert_expiring:
      return "certificate expires soon" + c.fact_fragment(fact::not_after, " (", ")");
    case Diagnosis::tls_name_mismatch:
      return "certificate name mismatch";
    case Diagnosis::tls_pin_mismatch:
      return "no certificate matches the pins";
    case Diagnosis::ws_upgrade_stripped:
      return "upgrade stripped" + c.fact_fragment(fact::http_status, " (HTTP ", ")");
    case Diagnosis::ws_upgrade_denied:
      return "upgrade denied" + c.fact_fragment(fact::http_status, " (HTTP ", ")");
    case Diagnosis::ws_frames_blocked:
      return "frames blocked after the upgrade";
    case Diagnosis::idle_cut:
      return "idle connection cut" + c.fact_fragment(fact::idle_cut_s, " after ", " s") +
             " (needs " + std::to_string(c.profile.idle.required.count()) + " s)";
    case Diagnosis::relay_auth_failed:
      return "SAS token rejected";
    case Diagnosis::relay_no_listener:
      return "no gateway listening";
    case Diagnosis::e2e_query_failed:
      return "query failed";
    case Diagnosis::e2e_result_corrupt:
      return "result corrupt";
    case Diagnosis::bgp_community_missing:
      return "community missing" + c.fact_fragment(fact::missing_community, " (", ")");
    case Diagnosis::bgp_unknown_geography:
      return "unknown geography";
    case Diagnosis::bgp_routes_missing:
      return "no routes arrive" + c.fact_fragment(fact::missing_community, " (", ")");
    case Diagnosis::fw_blocks_required:
      return "blocked by the firewall ruleset";
    case Diagnosis::fw_verdict_unknown:
      return "firewall verdict unknown";
    case Diagnosis::probe_cancelled:
      return "interrupted";
    case Diagnosis::probe_error:
      return "could not be checked";
    case Diagnosis::skipped:
      return "skipped";
  }
  return "failed";
}

std::string layer_label(const Context& c) {
  static const std::map<std::string_view, std::string_view> kLabels = {
      {"dns", "DNS"},
      {"tcp", "TCP"},
      {"proxy", "Proxy CONNECT"},
      {"tls", "TLS"},
      {"websocket", "WebSocket"},
      {"idle", "Idle"},
      {"relay", "Relay"},
      {"e2e", "End-to-end"},
      {"bgp", "BGP"},
      {"firewall", "Firewall"},
  };
  auto layer = core::info(c.result.diagnosis).layer;
  if (layer == "any") layer = c.result.kind;  // cancelled, error: say which check it was
  const auto it = kLabels.find(layer);
  return it != kLabels.end() ? std::string(it->second) : std::string(layer);
}

bool layer_has_ports(Diagnosis d) {
  const auto layer = core::info(d).layer;
  return layer == "tcp" || layer == "proxy" || layer == "tls" || layer == "websocket" ||
         layer == "idle" || layer == "any";
}

std::string qualifier(const Context& c, bool all_optional) {
  if (c.endpoint != nullptr) {
    if (c.endpoint->requirement == Requirement::tcp_mode && c.profile.https_mode) {
      return " (optional in HTTPS mode)";
    }
    if (c.endpoint->requirement == Requirement::optional) return " (optional)";
    return {};
  }
  return all_optional ? " (optional)" : std::string();
}

struct Group {
  Diagnosis diagnosis = Diagnosis::ok;
  std::string endpoint;
  std::size_t first_index = 0;
  std::vector<std::size_t> members;  ///< indices of the non-skipped results
  std::vector<std::size_t> folded;   ///< indices of results skipped because of these
};

/// Follows blocked_by through skipped results to the result that actually failed.
std::optional<std::size_t> blocking_result(const std::vector<core::ProbeResult>& results,
                                           std::size_t index,
                                           const std::map<std::string, std::size_t>& by_id) {
  std::size_t current = index;
  for (std::size_t hops = 0; hops <= results.size(); ++hops) {
    const auto id = results[current].fact_text(fact::blocked_by);
    if (id.empty()) return std::nullopt;
    const auto it = by_id.find(id);
    if (it == by_id.end()) return std::nullopt;
    current = it->second;
    if (results[current].status != Status::skip) return current;
  }
  return std::nullopt;  // a cycle: the caller falls back to matching by code and host
}

core::Finding make_finding(const Group& group, const std::vector<core::ProbeResult>& results,
                           const Profile& profile) {
  const auto& first = results[group.members.front()];
  std::vector<std::uint16_t> ports;
  bool all_optional = true;
  Status severity = Status::warn;
  for (const auto i : group.members) {
    const auto& r = results[i];
    if (const auto parts = split_target(r.target); parts.port) ports.push_back(*parts.port);
    all_optional = all_optional && !r.required;
    if (severity_rank(r.status) < severity_rank(severity)) severity = r.status;
  }
  const Context c = make_context(first, profile, ports);

  core::Finding finding;
  finding.diagnosis = group.diagnosis;
  finding.severity = severity;
  std::string subject = c.host;
  if (layer_has_ports(group.diagnosis) && !c.ports.empty()) {
    subject = c.ports + " to " + c.host;
  } else if (core::info(group.diagnosis).layer == "dns" && c.probe_host != c.host) {
    subject = c.probe_host + " (for " + c.host + ")";  // DNS asks about the probe host
  }
  finding.summary =
      layer_label(c) + " " + subject + ": " + summary_phrase(c) + qualifier(c, all_optional);
  if (!group.folded.empty()) {
    finding.summary += "; " + std::to_string(group.folded.size()) +
                       (group.folded.size() == 1 ? " dependent check" : " dependent checks") +
                       " skipped";
  }

  // One advice for the group: the probes' own when they all agree, else the merged rule text.
  const auto& advice = first.advice;
  const bool shared =
      !advice.empty() && std::all_of(group.members.begin(), group.members.end(),
                                     [&](std::size_t i) { return results[i].advice == advice; });
  finding.advice = shared ? advice : advice_text(c);

  for (const auto i : group.members) finding.result_ids.push_back(results[i].id);
  for (const auto i : group.folded) finding.result_ids.push_back(results[i].id);
  return finding;
}

}  // namespace

std::string advice_for(const core::ProbeResult& result, const Profile& profile) {
  return advice_text(make_context(result, profile, {}));
}

void fill_advice(core::ProbeResult& result, const Profile& profile) {
  if (!is_problem(result.status) || !result.advice.empty()) return;
  result.advice = advice_for(result, profile);
}

std::vector<core::Finding> diagnose(const std::vector<core::ProbeResult>& results,
                                    const Profile& profile) {
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < results.size(); ++i) by_id.emplace(results[i].id, i);

  std::vector<Group> groups;
  std::map<std::pair<Diagnosis, std::string>, std::size_t> group_of_key;
  std::map<std::size_t, std::size_t> group_of_result;
  std::vector<std::size_t> dependent_skips;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.status == Status::skip) {
      // SKIPPED without a failed dependency = not selected: nothing to report.
      if (r.diagnosis != Diagnosis::skipped || !r.fact_text(fact::blocked_by).empty()) {
        dependent_skips.push_back(i);
      }
      continue;
    }
    if (!is_problem(r.status)) continue;
    const auto key = std::pair(r.diagnosis, r.endpoint);
    auto [it, inserted] = group_of_key.emplace(key, groups.size());
    if (inserted) groups.push_back(Group{r.diagnosis, r.endpoint, i, {}, {}});
    groups[it->second].members.push_back(i);
    group_of_result[i] = it->second;
  }

  for (const auto i : dependent_skips) {
    const auto& r = results[i];
    std::optional<std::size_t> target;
    if (const auto blocker = blocking_result(results, i, by_id)) {
      if (const auto it = group_of_result.find(*blocker); it != group_of_result.end()) {
        target = it->second;
      }
    }
    if (!target) {
      if (const auto it = group_of_key.find({r.diagnosis, r.endpoint}); it != group_of_key.end()) {
        target = it->second;
      }
    }
    if (!target) {
      // The same failure on the same host (e.g. the host's one DNS check, grouped under the
      // first endpoint that uses the host).
      const auto host = split_target(r.target).host;
      for (std::size_t g = 0; g < groups.size() && !target; ++g) {
        if (groups[g].diagnosis != r.diagnosis) continue;
        for (const auto m : groups[g].members) {
          if (split_target(results[m].target).host == host) {
            target = g;
            break;
          }
        }
      }
    }
    // A skip whose cause is not among the results (e.g. it was cut by the run's deadline) has
    // nothing to fold into and states nothing new: it stays a skip in the results list only.
    if (target) groups[*target].folded.push_back(i);
  }

  std::vector<std::pair<std::tuple<int, std::size_t, std::size_t>, core::Finding>> ordered;
  for (const auto& group : groups) {
    auto finding = make_finding(group, results, profile);
    const auto order =
        std::tuple(severity_rank(finding.severity), layer_rank(group.diagnosis), group.first_index);
    ordered.emplace_back(order, std::move(finding));
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<core::Finding> findings;
  findings.reserve(ordered.size());
  for (auto& [order, finding] : ordered) findings.push_back(std::move(finding));
  return findings;
}

core::Verdict verdict_for(const std::vector<core::ProbeResult>& results, bool strict) {
  bool degraded = false;
  for (const auto& r : results) {
    if (r.diagnosis == Diagnosis::probe_cancelled) return core::Verdict::not_ready;
    if (r.status == Status::fail || r.status == Status::error) {
      if (r.required) return core::Verdict::not_ready;
      degraded = true;
    } else if (r.status == Status::warn) {
      degraded = true;
    }
  }
  if (!degraded) return core::Verdict::ready;
  return strict ? core::Verdict::not_ready : core::Verdict::degraded;
}

}  // namespace gwprobe::rules
