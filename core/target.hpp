// Target: what a probe is pointed at (host and port), and the parser every CLI argument goes
// through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::core {

/// A host (DNS name or IP literal, IPv6 without brackets) and a port (0 = none, e.g. for DNS).
struct Target {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", "[2001:db8::1]:443", or just the host when port is 0.
  std::string to_string() const;
  friend bool operator==(const Target&, const Target&) = default;
};

/// Parses "host", "host:port", "[v6]:port" or a bare IPv6 literal. A missing port takes
/// `default_port`; if that is empty too, the port is required. Host names are checked against
/// RFC 1123 (letters, digits, hyphens, dots; labels 1-63; total <= 253) and lower-cased.
Result<Target> parse_target(std::string_view text,
                            std::optional<std::uint16_t> default_port = std::nullopt,
                            bool port_required = true);

/// Parses a TCP/UDP port 1-65535.
Result<std::uint16_t> parse_port(std::string_view text);

/// True for an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string_view host);
/// True for a syntactically valid DNS host name (RFC 1123); "*." wildcards are not host names.
bool is_valid_hostname(std::string_view host);

}  // namespace gwprobe::core
