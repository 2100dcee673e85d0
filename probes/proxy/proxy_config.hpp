// Proxy resolution: which proxy (if any) a target is reached through, and why. Pure: the
// environment comes in as a lookup function and credential files as their contents, so every
// rule is a table test.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "core/target.hpp"
#include "probes/ip_address.hpp"
#include "probes/proxy/proxy_options.hpp"

namespace gwprobe::probes::proxy {

/// One NO_PROXY entry.
struct NoProxyEntry {
  enum class Kind {
    everything,  ///< "*"
    domain,      ///< "corp", ".corp", "*.corp": the name itself and every name under it
    address,     ///< "10.1.2.3", "::1": that address (targets given as IP literals only)
    network,     ///< "10.0.0.0/8", "fd00::/8": targets given as IP literals in the range
  };
  Kind kind = Kind::domain;
  std::string text;        ///< as written, for reasons ("NO_PROXY matched .corp")
  std::string domain;      ///< lower-case, without leading "*." / "." and trailing "."
  IpAddress address;       ///< address / network base
  int prefix = -1;         ///< network prefix length
  std::uint16_t port = 0;  ///< 0 = any port
};

struct NoProxyList {
  std::vector<NoProxyEntry> entries;
  std::vector<std::string> ignored;  ///< malformed entries, each with why ("10.0.0.0/33: ...")
};

/// Parses a NO_PROXY value: entries separated by commas and/or white space. Malformed entries
/// are skipped and listed in `ignored` (a typo in the environment must not stop a diagnosis).
/// Names are matched without DNS (as curl does): a CIDR only matches targets given as IPs.
NoProxyList parse_no_proxy(std::string_view text);

/// The first entry that matches `target`, or nullptr.
const NoProxyEntry* match_no_proxy(const NoProxyList& list, const core::Target& target);

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Everything proxy resolution reads, highest precedence first within each group.
struct ProxySources {
  /// --proxy: a URL, or "none" to go direct whatever the profile and environment say; "" = not
  /// given.
  std::string cli_url;
  std::string profile_url;  ///< [proxy] url ("" = none)
  /// The environment: HTTPS_PROXY, https_proxy, ALL_PROXY, all_proxy (in that order) and
  /// NO_PROXY / no_proxy. Unset lookup = an empty environment.
  EnvLookup env;

  std::string cli_auth;              ///< --proxy-auth ("" = not given)
  std::string profile_auth = "any";  ///< [proxy] auth

  /// --proxy-user USER[:PASS] (the password part is secret, so the whole value is).
  std::optional<core::Secret> cli_user;
  /// Contents of --proxy-password-file (its first line).
  std::optional<core::Secret> cli_password_file;
  /// Contents of [proxy] credentials_file: "user:password" on the first line.
  std::optional<core::Secret> profile_credentials;

  std::string ca_file;  ///< --proxy-cacert: CA bundle for an https:// proxy
};

/// The run's proxy settings, resolved once.
struct ProxyPlan {
  std::optional<ProxyEndpoint> proxy;                 ///< none: every target is reached directly
  std::string direct_reason = "no proxy configured";  ///< without a proxy, or "--proxy none"
  NoProxyList no_proxy;
  std::string no_proxy_variable;      ///< "NO_PROXY" or "no_proxy" (for reasons), "" when unset
  std::string credentials_source;     ///< "--proxy-user and --proxy-password-file", "the URL", ...
  std::vector<std::string> warnings;  ///< ignored NO_PROXY entries, shadowed variables

  /// One line for the report header: "http://alice:***@proxy:3128 (from HTTPS_PROXY; auth
  /// any; credentials from the URL)" or "none (direct)". Never contains a password.
  std::string describe() const;
};

/// Resolves the proxy: --proxy, else [proxy] url, else the environment; then the credentials
/// (URL userinfo, overridden by [proxy] credentials_file, overridden by --proxy-user and
/// --proxy-password-file) and the auth method (--proxy-auth, else [proxy] auth). Errors
/// (invalid_input, one line, never quoting a password): a malformed URL, an unsupported scheme,
/// an unknown auth method, a credentials file that is not "user:password".
core::Result<ProxyPlan> resolve_proxy_plan(const ProxySources& sources);

/// The proxy for one target, and why.
struct ProxyDecision {
  std::optional<ProxyEndpoint> proxy;  ///< none: connect directly
  /// "from HTTPS_PROXY", "NO_PROXY matched .corp", "no proxy configured", "--proxy none".
  std::string reason;
};

ProxyDecision proxy_for(const ProxyPlan& plan, const core::Target& target);

}  // namespace gwprobe::probes::proxy
