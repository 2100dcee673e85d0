// Options of the proxy CONNECT probe, and the description of a proxy that the TLS, WebSocket and
// idle probes tunnel through (light header: no libcurl here, so probe.hpp stays cheap to include).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/url.hpp"
#include "probes/tcp/tcp_options.hpp"

namespace gwprobe::probes::proxy {

/// How to authenticate to the proxy (libcurl's CURLAUTH_*). `any` lets libcurl pick the safest
/// scheme the proxy offers (Negotiate, NTLM, Digest, then Basic).
enum class ProxyAuth { any, basic, ntlm, negotiate };

/// "any", "basic", "ntlm", "negotiate" (any case); anything else is invalid_input.
core::Result<ProxyAuth> parse_proxy_auth(std::string_view text);
std::string_view to_string(ProxyAuth auth) noexcept;

/// A proxy as the probes use it.
struct ProxyEndpoint {
  /// http:// (plain), https:// (TLS to the proxy itself) or socks4/4a/5/5h://; user and password
  /// inside (the password is a core::Secret: url.redacted() is what reports show).
  core::Url url;
  ProxyAuth auth = ProxyAuth::any;
  /// CA bundle trusted for an https:// proxy's own certificate; "" = the system store.
  std::string ca_file;
  /// Why this proxy is used, for reports: "from --proxy", "from HTTPS_PROXY".
  std::string source;

  bool has_credentials() const { return url.has_credentials(); }
  bool is_https() const { return url.scheme == "https"; }
  bool is_socks() const { return url.scheme.rfind("socks", 0) == 0; }
};

/// The proxy probe: a CONNECT tunnel to the target through the proxy (libcurl), the proxy's
/// answer as facts. The target's port comes from the Target.
struct ProxyOptions {
  static constexpr std::string_view kind = "proxy";

  ProxyEndpoint proxy;
  /// Also connect to the target directly (without the proxy) and report, as facts, which path
  /// works. The direct result is information only: the gateway uses the proxy when one is set.
  bool compare_direct = false;
  /// How the direct comparison connects.
  tcp::TcpOptions direct;
};

}  // namespace gwprobe::probes::proxy
