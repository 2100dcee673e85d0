// Packet decoding for capture evidence: link layer -> IPv4/IPv6 -> TCP/UDP/ICMP, no libpcap here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/result.hpp"
#include "probes/ip_address.hpp"

namespace gwprobe::probes::capture {

/// Orders addresses (family, then bytes) for maps and sets of probes::IpAddress.
struct AddressOrder {
  bool operator()(const IpAddress& a, const IpAddress& b) const noexcept {
    return std::tie(a.family, a.bytes) < std::tie(b.family, b.bytes);
  }
};

/// An address and a port (0 for protocols without ports).
struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  /// Parses "10.0.0.1:443", "[2001:db8::1]:443"; a bare address takes `default_port`.
  static std::optional<Endpoint> parse(std::string_view text, std::uint16_t default_port = 0);
  /// "10.0.0.1:443" or "[2001:db8::1]:443".
  std::string to_string() const { return address.with_port(port); }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend bool operator<(const Endpoint& a, const Endpoint& b) noexcept {
    if (a.address == b.address) return a.port < b.port;
    return AddressOrder{}(a.address, b.address);
  }
};

/// The link-layer framings gwprobe decodes. Linux gives Ethernet on lo and veth, Linux cooked
/// v2 on the "any" device, raw IP on tun devices; BSD loopback framing is for files from macOS.
enum class LinkType { null_loopback, ethernet, raw_ip, linux_sll, linux_sll2 };

/// Maps a DLT_* value (as pcap_datalink() returns it) or a LINKTYPE_* value (as in a pcap file
/// header) to a LinkType; nullopt for framings gwprobe does not decode.
std::optional<LinkType> link_type_from_dlt(int dlt) noexcept;
/// The DLT_* value to write in a pcap file for a link type.
int dlt_of(LinkType link) noexcept;
std::string_view to_string(LinkType link) noexcept;

namespace ip_protocol {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t icmpv6 = 58;
}  // namespace ip_protocol

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
}  // namespace tcp_flag

struct TcpSegment {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  /// Payload length on the wire (from the IP length), even when the capture was truncated.
  std::uint32_t payload_length = 0;
  /// The payload bytes that were captured (a prefix of the payload); points into the frame.
  std::span<const std::uint8_t> payload;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

struct UdpDatagram {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t payload_length = 0;
};

/// An ICMP or ICMPv6 error and the header of the packet it refers to (RFC 792 / RFC 4443 quote
/// the offending IP header and at least the first 8 bytes of its payload: enough for ports).
struct IcmpError {
  bool v6 = false;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  IpAddress original_source;
  IpAddress original_destination;
  std::uint8_t original_protocol = 0;
  std::optional<std::uint16_t> original_source_port;
  std::optional<std::uint16_t> original_destination_port;
};

/// One decoded IP packet. Spans point into the frame it was decoded from.
struct DecodedPacket {
  std::chrono::microseconds timestamp{0};  ///< capture time since the Unix epoch
  IpAddress source;
  IpAddress destination;
  std::uint8_t ttl = 0;                ///< IPv4 TTL or IPv6 hop limit
  std::optional<std::uint16_t> ip_id;  ///< IPv4 identification (IPv6 has none outside fragments)
  std::uint8_t protocol = 0;           ///< transport protocol after IPv6 extension headers
  bool fragment = false;               ///< a non-first fragment: no transport header
  std::optional<TcpSegment> tcp;
  std::optional<UdpDatagram> udp;
  std::optional<IcmpError> icmp_error;  ///< only error messages (unreachable, time exceeded, ...)
};

/// A frame as captured: the bytes (possibly cut at the snap length) and when it was seen.
struct CapturedPacket {
  std::chrono::microseconds timestamp{0};  ///< since the Unix epoch
  LinkType link = LinkType::ethernet;
  std::uint32_t original_length = 0;  ///< length on the wire
  std::vector<std::uint8_t> data;
};

/// Decodes one frame. Fails (FailureKind::protocol, never a crash) on anything truncated or
/// malformed before the transport header, and for non-IP frames (ARP, LLDP: unsupported).
/// A transport header cut short by the snap length leaves that part empty instead of failing.
core::Result<DecodedPacket> decode_packet(LinkType link, std::span<const std::uint8_t> frame,
                                          std::chrono::microseconds timestamp = {});

/// Whether an ICMP (v6 = false) or ICMPv6 type is an error message that quotes a packet.
bool is_icmp_error_type(bool v6, std::uint8_t type) noexcept;

/// "host unreachable", "port unreachable", "communication administratively prohibited", ...
std::string icmp_error_name(bool v6, std::uint8_t type, std::uint8_t code);

}  // namespace gwprobe::probes::capture
