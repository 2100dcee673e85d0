// IpAddress: a resolved IPv4/IPv6 address, its sockaddr form, and which special-purpose range
// (private, loopback, CGNAT, ...) it falls in.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gwprobe::probes {

/// One IPv4 or IPv6 address, value-typed and cheap to copy (no heap).
struct IpAddress {
  enum class Family : std::uint8_t { v4, v6 };

  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 uses the first 4

  /// Parses "10.0.0.1" or "2001:db8::1" (no brackets, no port).
  static std::optional<IpAddress> parse(std::string_view text);
  /// Reads an AF_INET/AF_INET6 sockaddr; nullopt for any other family.
  static std::optional<IpAddress> from_sockaddr(const sockaddr* address);

  bool is_v6() const noexcept { return family == Family::v6; }
  int af() const noexcept { return is_v6() ? AF_INET6 : AF_INET; }
  /// "10.0.0.1" / "2001:db8::1".
  std::string to_string() const;
  /// "10.0.0.1:443" / "[2001:db8::1]:443".
  std::string with_port(std::uint16_t port) const;
  /// Fills `out` for connect(); returns the length to pass with it.
  socklen_t to_sockaddr(std::uint16_t port, sockaddr_storage& out) const noexcept;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// The special-purpose range an address belongs to, named for people: "RFC 1918 private",
/// "CGNAT 100.64.0.0/10", "loopback", "link-local", "unique local fc00::/7",
/// "unspecified: a sinkhole". Empty for a public (globally routed) address. An IPv4-mapped IPv6
/// address (::ffff:10.0.0.1) is judged by its IPv4 part.
std::string_view special_range(const IpAddress& address) noexcept;

}  // namespace gwprobe::probes
