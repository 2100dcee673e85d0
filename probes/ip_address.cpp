// IpAddress conversions and the special-range table (RFC 1918, RFC 6598, RFC 3927, RFC 4193, ...).
#include "probes/ip_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace gwprobe::probes {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  IpAddress address;
  if (::inet_pton(AF_INET, buffer, address.bytes.data()) == 1) return address;
  address.family = Family::v6;
  if (::inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) return address;
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  IpAddress out;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    std::memcpy(out.bytes.data(), &in.sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    out.family = Family::v6;
    std::memcpy(out.bytes.data(), &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(af(), bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::string IpAddress::with_port(std::uint16_t port) const {
  return is_v6() ? "[" + to_string() + "]:" + std::to_string(port)
                 : to_string() + ":" + std::to_string(port);
}

socklen_t IpAddress::to_sockaddr(std::uint16_t port, sockaddr_storage& out) const noexcept {
  out = sockaddr_storage{};
  if (is_v6()) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, bytes.data(), 16);
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  std::memcpy(&in.sin_addr, bytes.data(), 4);
  std::memcpy(&out, &in, sizeof in);
  return sizeof in;
}

namespace {

struct Range {
  std::array<std::uint8_t, 16> prefix;
  int bits;
  std::string_view name;
};

bool in_range(const std::uint8_t* address, const Range& range) noexcept {
  const int whole = range.bits / 8;
  if (std::memcmp(address, range.prefix.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = range.bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (address[whole] & mask) == (range.prefix[static_cast<std::size_t>(whole)] & mask);
}

// The answers a public gateway endpoint must never resolve to (design.md: private endpoint,
// sinkhole, stale hosts entry). Documentation and benchmark ranges are left out on purpose: they
// are not what sinkholes and private zones hand out.
constexpr Range kV4Ranges[] = {
    {{0}, 8, "unspecified: a sinkhole"},  // 0.0.0.0/8: "this network", the classic sinkhole answer
    {{10}, 8, "RFC 1918 private"},
    {{100, 64}, 10, "CGNAT 100.64.0.0/10"},
    {{127}, 8, "loopback"},
    {{169, 254}, 16, "link-local"},
    {{172, 16}, 12, "RFC 1918 private"},
    {{192, 168}, 16, "RFC 1918 private"},
};

constexpr Range kV6Ranges[] = {
    {{}, 128, "unspecified: a sinkhole"},  // ::
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback"},
    {{0xfc}, 7, "unique local fc00::/7"},
    {{0xfe, 0x80}, 10, "link-local"},
};

}  // namespace

std::string_view special_range(const IpAddress& address) noexcept {
  const std::uint8_t* bytes = address.bytes.data();
  if (address.is_v6()) {
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
      bytes += sizeof kMapped;  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d
    } else {
      for (const auto& range : kV6Ranges) {
        if (in_range(bytes, range)) return range.name;
      }
      return {};
    }
  }
  for (const auto& range : kV4Ranges) {
    if (in_range(bytes, range)) return range.name;
  }
  return {};
}

}  // namespace gwprobe::probes
