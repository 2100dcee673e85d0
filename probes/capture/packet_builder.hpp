// Test support: builds frames (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback) carrying IPv4 or
// IPv6 with TCP, UDP, ICMP/ICMPv6 errors and TLS records, so evidence is tested on exact bytes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "probes/capture/packet.hpp"

namespace gwprobe::probes::capture::build {

using Bytes = std::vector<std::uint8_t>;

/// Appends `tail` to `out` (a loop: GCC 12 at -O3 reports false array-bounds errors for
/// vector::insert at the end of a small vector, GCC bug 107852).
inline void append(Bytes& out, const Bytes& tail) {
  out.reserve(out.size() + tail.size());
  for (auto b : tail) out.push_back(b);
}

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

struct IpFields {
  std::uint8_t ttl = 64;
  std::uint16_t ip_id = 0;
};

/// An IPv4 or IPv6 header (family from the addresses) followed by `payload`.
inline Bytes ip_packet(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                       const Bytes& payload, IpFields f = {}) {
  Bytes b;
  if (!src.is_v6()) {
    b.assign(20, 0);
    b[0] = 0x45;
    put16(b, 2, static_cast<std::uint16_t>(20 + payload.size()));
    put16(b, 4, f.ip_id);
    put16(b, 6, 0x4000);  // DF
    b[8] = f.ttl;
    b[9] = protocol;
    std::copy(src.bytes.begin(), src.bytes.begin() + 4, b.begin() + 12);
    std::copy(dst.bytes.begin(), dst.bytes.begin() + 4, b.begin() + 16);
    std::uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += (b[i] << 8) | b[i + 1];
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    put16(b, 10, static_cast<std::uint16_t>(~sum));
  } else {
    b.assign(40, 0);
    b[0] = 0x60;
    put16(b, 4, static_cast<std::uint16_t>(payload.size()));
    b[6] = protocol;
    b[7] = f.ttl;
    std::copy(src.bytes.begin(), src.bytes.end(), b.begin() + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), b.begin() + 24);
  }
  append(b, payload);
  return b;
}

struct TcpFields {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  Bytes payload{};
  IpFields ip{};
  bool mss_option = false;  ///< adds 4 bytes of options (data offset 6)
};

inline Bytes tcp_packet(const Endpoint& from, const Endpoint& to, const TcpFields& f) {
  const std::size_t header = f.mss_option ? 24 : 20;
  Bytes t(header, 0);
  put16(t, 0, from.port);
  put16(t, 2, to.port);
  put32(t, 4, f.seq);
  put32(t, 8, f.ack);
  t[12] = static_cast<std::uint8_t>((header / 4) << 4);
  t[13] = f.flags;
  put16(t, 14, 65535);
  if (f.mss_option) {
    t[20] = 2;
    t[21] = 4;
    put16(t, 22, 1460);
  }
  append(t, f.payload);
  return ip_packet(from.address, to.address, ip_protocol::tcp, t, f.ip);
}

inline Bytes udp_packet(const Endpoint& from, const Endpoint& to, const Bytes& payload,
                        IpFields ip = {}) {
  Bytes u(8, 0);
  put16(u, 0, from.port);
  put16(u, 2, to.port);
  put16(u, 4, static_cast<std::uint16_t>(8 + payload.size()));
  append(u, payload);
  return ip_packet(from.address, to.address, ip_protocol::udp, u, ip);
}

/// An ICMP (IPv4) or ICMPv6 error from `router` to `to`, quoting `offending` (an IP packet);
/// quotes `quote_bytes` of it (ICMPv4 routers quote the header + 8 bytes).
inline Bytes icmp_error(const IpAddress& router, const IpAddress& to, std::uint8_t type,
                        std::uint8_t code, const Bytes& offending, std::size_t quote_bytes,
                        IpFields ip = {}) {
  Bytes m(8, 0);
  m[0] = type;
  m[1] = code;
  const auto n = std::min(quote_bytes, offending.size());
  for (std::size_t i = 0; i < n; ++i) m.push_back(offending[i]);
  return ip_packet(router, to, router.is_v6() ? ip_protocol::icmpv6 : ip_protocol::icmp, m, ip);
}

/// Wraps an IP packet in a link-layer header.
inline Bytes frame(LinkType link, const Bytes& ip) {
  const bool v6 = !ip.empty() && (ip[0] >> 4) == 6;
  const std::uint16_t ethertype = v6 ? 0x86DD : 0x0800;
  Bytes h;
  switch (link) {
    case LinkType::raw_ip:
      break;
    case LinkType::null_loopback:
      h = {static_cast<std::uint8_t>(v6 ? 30 : 2), 0, 0, 0};  // little-endian AF_INET / AF_INET6
      break;
    case LinkType::ethernet:
      h.assign(14, 0);
      for (int i = 0; i < 6; ++i) h[i] = 0x02, h[6 + i] = 0x04;
      put16(h, 12, ethertype);
      break;
    case LinkType::linux_sll:
      h.assign(16, 0);
      put16(h, 0, 4);  // outgoing
      put16(h, 2, 1);  // ARPHRD_ETHER
      put16(h, 4, 6);
      put16(h, 14, ethertype);
      break;
    case LinkType::linux_sll2:
      h.assign(20, 0);
      put16(h, 0, ethertype);
      put32(h, 4, 2);  // ifindex
      put16(h, 8, 1);  // ARPHRD_ETHER
      h[10] = 0;       // to us
      h[11] = 6;
      break;
  }
  append(h, ip);
  return h;
}

/// Ethernet with an 802.1Q tag.
inline Bytes vlan_frame(const Bytes& ip) {
  Bytes h(18, 0);
  put16(h, 12, 0x8100);
  put16(h, 14, 42);
  put16(h, 16, (ip[0] >> 4) == 6 ? 0x86DD : 0x0800);
  append(h, ip);
  return h;
}

/// A TLS record: type, legacy version 3.3, length, body.
inline Bytes tls_record(std::uint8_t type, const Bytes& body) {
  Bytes r = {type, 3, 3, 0, 0};
  put16(r, 3, static_cast<std::uint16_t>(body.size()));
  append(r, body);
  return r;
}
inline Bytes tls_handshake(std::size_t body_bytes) {
  Bytes body(body_bytes, 0x42);
  body[0] = 1;  // client_hello (the content does not matter to the walk)
  return tls_record(22, body);
}
inline Bytes tls_alert(std::uint8_t level, std::uint8_t description) {
  return tls_record(21, {level, description});
}
inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) append(out, p);
  return out;
}

/// A capture under construction: packets with advancing timestamps on one link type.
class Script {
 public:
  explicit Script(LinkType link = LinkType::ethernet) : link_(link) {}
  Script& at(std::chrono::microseconds t) {
    now_ = t;
    return *this;
  }
  Script& add(const Bytes& ip) {
    CapturedPacket p;
    p.timestamp = now_;
    p.link = link_;
    p.data = frame(link_, ip);
    p.original_length = static_cast<std::uint32_t>(p.data.size());
    packets_.push_back(std::move(p));
    return *this;
  }
  const std::vector<CapturedPacket>& packets() const { return packets_; }

 private:
  LinkType link_;
  std::chrono::microseconds now_{0};
  std::vector<CapturedPacket> packets_;
};

}  // namespace gwprobe::probes::capture::build
