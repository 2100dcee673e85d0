// Url: the parts of http/https/ws/wss/socks URLs gwprobe uses (proxies, relays), with userinfo kept
// secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace gwprobe::core {

struct Url {
  std::string scheme;      ///< lower-case: http, https, ws, wss, socks5, ...
  std::string user;        ///< percent-decoded
  Secret password;         ///< percent-decoded; never printed
  std::string host;        ///< lower-case, IPv6 without brackets
  std::uint16_t port = 0;  ///< explicit port or the scheme default
  bool explicit_port = false;
  std::string path = "/";  ///< path and query, as given (still percent-encoded)

  /// The URL with the password replaced by "***" (user kept): safe for reports and logs.
  std::string redacted() const;
  /// scheme://host:port (no userinfo, no path).
  std::string origin() const;
  bool has_credentials() const { return !user.empty() || !password.empty(); }
};

/// Parses an absolute URL. A URL without a scheme ("proxy:3128") is taken as http:// when
/// `default_scheme` is "http", as curl does for proxies. Unknown schemes are kept; callers check.
Result<Url> parse_url(std::string_view text, std::string_view default_scheme = {});

/// Default port for a scheme (http/ws 80, https/wss 443, socks* 1080), 0 if unknown.
std::uint16_t default_port_for(std::string_view scheme);

/// Percent-decoding ('+' is not space). Fails on malformed escapes.
Result<std::string> percent_decode(std::string_view text);
/// Percent-encoding of everything outside RFC 3986 unreserved characters; `upper` picks hex case.
std::string percent_encode(std::string_view text, bool upper = true);

}  // namespace gwprobe::core
