// Packet decoding: every read is bounds-checked, because captures are cut at the snap length and
// a hostile peer controls every byte after the link header.
#include "probes/capture/packet.hpp"

#include <algorithm>
#include <cstring>

namespace gwprobe::probes::capture {

namespace {

using Bytes = std::span<const std::uint8_t>;

// Link-layer header sizes and type numbers (from pcap-linktype(7); repeated here so this file
// needs no libpcap).
constexpr int kDltNull = 0;
constexpr int kDltEthernet = 1;
constexpr int kDltRaw = 12;         // DLT_RAW on Linux and most systems
constexpr int kDltRawOpenBsd = 14;  // DLT_RAW on OpenBSD
constexpr int kDltLoop = 108;       // OpenBSD loopback: family in network byte order
constexpr int kLinktypeRaw = 101;   // LINKTYPE_RAW as written in pcap files
constexpr int kDltLinuxSll = 113;
constexpr int kDltIpv4 = 228;
constexpr int kDltIpv6 = 229;
constexpr int kDltLinuxSll2 = 276;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr int kMaxVlanTags = 2;
constexpr std::size_t kSllHeader = 16;
constexpr std::size_t kSll2Header = 20;
constexpr std::size_t kNullHeader = 4;

constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeIpv6 = 0x86DD;
constexpr std::uint16_t kEthertypeVlan = 0x8100;
constexpr std::uint16_t kEthertypeQinQ = 0x88A8;
constexpr std::uint16_t kEthertypeQinQOld = 0x9100;

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpMinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kIcmpHeader = 8;
constexpr int kMaxIpv6ExtensionHeaders = 8;

std::uint16_t load16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
std::uint32_t load32(Bytes b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

IpAddress v4_at(Bytes b, std::size_t at) {
  IpAddress a;
  a.family = IpAddress::Family::v4;
  std::memcpy(a.bytes.data(), &b[at], 4);
  return a;
}
IpAddress v6_at(Bytes b, std::size_t at) {
  IpAddress a;
  a.family = IpAddress::Family::v6;
  std::memcpy(a.bytes.data(), &b[at], 16);
  return a;
}

core::Unexpected malformed(std::string message) {
  return core::fail(core::FailureKind::protocol, std::move(message));
}

/// The IP layer of a packet: addresses, the transport protocol and where its header starts.
struct IpLayer {
  IpAddress source;
  IpAddress destination;
  std::uint8_t ttl = 0;
  std::optional<std::uint16_t> ip_id;
  std::uint8_t protocol = 0;
  bool fragment = false;
  Bytes transport;                   ///< captured bytes of the transport header and payload
  std::uint32_t transport_wire = 0;  ///< their length on the wire
};

core::Result<IpLayer> parse_ipv4(Bytes b, bool quoted) {
  if (b.size() < kIpv4MinHeader) return malformed("IPv4 header truncated");
  if ((b[0] >> 4) != 4) return malformed("not an IPv4 header");
  const std::size_t header = static_cast<std::size_t>(b[0] & 0x0F) * 4;
  if (header < kIpv4MinHeader) return malformed("IPv4 header length below 20 bytes");
  if (header > b.size()) return malformed("IPv4 options truncated");
  std::size_t total = load16(b, 2);
  // Offloaded (TSO/GSO) packets are captured before segmentation and may carry total length 0.
  if (total == 0) total = b.size();
  if (total < header) return malformed("IPv4 total length shorter than its header");
  IpLayer ip;
  ip.ip_id = load16(b, 4);
  const std::uint16_t fragment_offset = load16(b, 6) & 0x1FFF;
  ip.fragment = fragment_offset != 0;
  ip.ttl = b[8];
  ip.protocol = b[9];
  ip.source = v4_at(b, 12);
  ip.destination = v4_at(b, 16);
  // A quoted header (inside ICMP) describes the original packet, of which only a prefix is
  // quoted; Ethernet padding after a short packet must not be read as payload.
  const std::size_t captured_end = quoted ? b.size() : std::min(b.size(), total);
  ip.transport = b.subspan(header, captured_end - header);
  ip.transport_wire = static_cast<std::uint32_t>(total - header);
  return ip;
}

core::Result<IpLayer> parse_ipv6(Bytes b, bool quoted) {
  if (b.size() < kIpv6Header) return malformed("IPv6 header truncated");
  if ((b[0] >> 4) != 6) return malformed("not an IPv6 header");
  std::size_t payload = load16(b, 4);
  if (payload == 0) payload = b.size() - kIpv6Header;  // jumbogram or offloaded
  IpLayer ip;
  ip.ttl = b[7];
  ip.source = v6_at(b, 8);
  ip.destination = v6_at(b, 24);
  const std::size_t captured_end = quoted ? b.size() : std::min(b.size(), kIpv6Header + payload);
  std::uint8_t next = b[6];
  std::size_t at = kIpv6Header;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
    constexpr std::uint8_t hop_by_hop = 0, routing = 43, fragment = 44, auth = 51,
                           destination_options = 60;
    if (next != hop_by_hop && next != routing && next != fragment && next != auth &&
        next != destination_options) {
      break;
    }
    if (at + 8 > captured_end) return malformed("IPv6 extension header truncated");
    std::size_t length = 8;
    if (next == fragment) {
      if ((load16(b, at + 2) >> 3) != 0) ip.fragment = true;
    } else if (next == auth) {
      length = (static_cast<std::size_t>(b[at + 1]) + 2) * 4;
    } else {
      length = (static_cast<std::size_t>(b[at + 1]) + 1) * 8;
    }
    next = b[at];
    at += length;
    if (at > captured_end) return malformed("IPv6 extension header truncated");
    if (ip.fragment) break;
  }
  if (at - kIpv6Header > payload) return malformed("IPv6 extension headers exceed the payload");
  ip.protocol = next;
  ip.transport = b.subspan(at, captured_end - at);
  ip.transport_wire = static_cast<std::uint32_t>(payload - (at - kIpv6Header));
  return ip;
}

core::Result<IpLayer> parse_ip(Bytes b, bool quoted) {
  if (b.empty()) return malformed("no IP header");
  switch (b[0] >> 4) {
    case 4:
      return parse_ipv4(b, quoted);
    case 6:
      return parse_ipv6(b, quoted);
    default:
      return malformed("IP version is neither 4 nor 6");
  }
}

/// The quoted packet inside an ICMP error; nullopt when the quote is unreadable.
std::optional<IcmpError> parse_icmp_error(bool v6, Bytes icmp) {
  if (icmp.size() < kIcmpHeader) return std::nullopt;
  if (!is_icmp_error_type(v6, icmp[0])) return std::nullopt;
  auto quoted = parse_ip(icmp.subspan(kIcmpHeader), true);
  if (!quoted || quoted->source.is_v6() != v6) return std::nullopt;
  IcmpError e;
  e.v6 = v6;
  e.type = icmp[0];
  e.code = icmp[1];
  e.original_source = quoted->source;
  e.original_destination = quoted->destination;
  e.original_protocol = quoted->protocol;
  const bool has_ports =
      quoted->protocol == ip_protocol::tcp || quoted->protocol == ip_protocol::udp;
  if (has_ports && !quoted->fragment && quoted->transport.size() >= 4) {
    e.original_source_port = load16(quoted->transport, 0);
    e.original_destination_port = load16(quoted->transport, 2);
  }
  return e;
}

core::Result<void> parse_transport(const IpLayer& ip, DecodedPacket& out) {
  if (ip.fragment) return {};
  const Bytes t = ip.transport;
  switch (ip.protocol) {
    case ip_protocol::tcp: {
      if (t.size() < kTcpMinHeader) return {};  // cut by the snap length
      const std::size_t header = static_cast<std::size_t>(t[12] >> 4) * 4;
      if (header < kTcpMinHeader) return malformed("TCP header length below 20 bytes");
      if (header > ip.transport_wire) return malformed("TCP header longer than the IP payload");
      TcpSegment s;
      s.source_port = load16(t, 0);
      s.destination_port = load16(t, 2);
      s.seq = load32(t, 4);
      s.ack = load32(t, 8);
      s.flags = t[13];
      s.payload_length = ip.transport_wire - static_cast<std::uint32_t>(header);
      if (t.size() > header) s.payload = t.subspan(header);
      out.tcp = s;
      return {};
    }
    case ip_protocol::udp: {
      if (t.size() < kUdpHeader) return {};
      if (ip.transport_wire < kUdpHeader) return malformed("UDP header longer than the IP payload");
      out.udp = UdpDatagram{load16(t, 0), load16(t, 2),
                            ip.transport_wire - static_cast<std::uint32_t>(kUdpHeader)};
      return {};
    }
    case ip_protocol::icmp:
      if (!ip.source.is_v6()) out.icmp_error = parse_icmp_error(false, t);
      return {};
    case ip_protocol::icmpv6:
      if (ip.source.is_v6()) out.icmp_error = parse_icmp_error(true, t);
      return {};
    default:
      return {};
  }
}

/// The IP packet inside a frame, after the link-layer header.
core::Result<Bytes> strip_link(LinkType link, Bytes frame) {
  auto by_ethertype = [&](std::uint16_t type, std::size_t at) -> core::Result<Bytes> {
    if (type != kEthertypeIpv4 && type != kEthertypeIpv6) {
      return core::fail(core::FailureKind::unsupported, "not an IP frame");
    }
    return frame.subspan(at);
  };
  switch (link) {
    case LinkType::raw_ip:
      return frame;
    case LinkType::null_loopback: {
      if (frame.size() < kNullHeader) return malformed("loopback header truncated");
      // The family is in the capturing host's byte order; accept either order.
      const std::uint32_t le = frame[0] | (frame[1] << 8) | (frame[2] << 16) |
                               (static_cast<std::uint32_t>(frame[3]) << 24);
      const std::uint32_t be = load32(frame, 0);
      auto is_ip = [](std::uint32_t family) {
        return family == 2 || family == 10 || family == 24 || family == 28 || family == 30;
      };
      if (!is_ip(le) && !is_ip(be)) {
        return core::fail(core::FailureKind::unsupported, "not an IP frame");
      }
      return frame.subspan(kNullHeader);
    }
    case LinkType::ethernet: {
      if (frame.size() < kEthernetHeader) return malformed("Ethernet header truncated");
      std::size_t at = 12;
      std::uint16_t type = load16(frame, at);
      for (int i = 0; i < kMaxVlanTags && (type == kEthertypeVlan || type == kEthertypeQinQ ||
                                           type == kEthertypeQinQOld);
           ++i) {
        at += kVlanTag;
        if (at + 2 > frame.size()) return malformed("VLAN tag truncated");
        type = load16(frame, at);
      }
      return by_ethertype(type, at + 2);
    }
    case LinkType::linux_sll:
      if (frame.size() < kSllHeader) return malformed("Linux cooked header truncated");
      return by_ethertype(load16(frame, 14), kSllHeader);
    case LinkType::linux_sll2:
      if (frame.size() < kSll2Header) return malformed("Linux cooked v2 header truncated");
      return by_ethertype(load16(frame, 0), kSll2Header);
  }
  return malformed("unknown link type");
}

}  // namespace

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::uint16_t default_port) {
  std::string_view host = text;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  if (!address) return std::nullopt;
  std::uint32_t port = default_port;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return std::nullopt;
    port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port > 65535) return std::nullopt;
  }
  return Endpoint{*address, static_cast<std::uint16_t>(port)};
}

std::optional<LinkType> link_type_from_dlt(int dlt) noexcept {
  switch (dlt) {
    case kDltNull:
    case kDltLoop:
      return LinkType::null_loopback;
    case kDltEthernet:
      return LinkType::ethernet;
    case kDltRaw:
    case kDltRawOpenBsd:
    case kLinktypeRaw:
    case kDltIpv4:
    case kDltIpv6:
      return LinkType::raw_ip;
    case kDltLinuxSll:
      return LinkType::linux_sll;
    case kDltLinuxSll2:
      return LinkType::linux_sll2;
    default:
      return std::nullopt;
  }
}

int dlt_of(LinkType link) noexcept {
  switch (link) {
    case LinkType::null_loopback:
      return kDltNull;
    case LinkType::ethernet:
      return kDltEthernet;
    case LinkType::raw_ip:
      return kDltRaw;
    case LinkType::linux_sll:
      return kDltLinuxSll;
    case LinkType::linux_sll2:
      return kDltLinuxSll2;
  }
  return kDltEthernet;
}

std::string_view to_string(LinkType link) noexcept {
  switch (link) {
    case LinkType::null_loopback:
      return "null";
    case LinkType::ethernet:
      return "ethernet";
    case LinkType::raw_ip:
      return "raw";
    case LinkType::linux_sll:
      return "linux_sll";
    case LinkType::linux_sll2:
      return "linux_sll2";
  }
  return "?";
}

core::Result<DecodedPacket> decode_packet(LinkType link, std::span<const std::uint8_t> frame,
                                          std::chrono::microseconds timestamp) {
  auto packet = strip_link(link, frame);
  if (!packet) return core::fail(packet.error());
  auto ip = parse_ip(*packet, false);
  if (!ip) return core::fail(ip.error());
  DecodedPacket out;
  out.timestamp = timestamp;
  out.source = ip->source;
  out.destination = ip->destination;
  out.ttl = ip->ttl;
  out.ip_id = ip->ip_id;
  out.protocol = ip->protocol;
  out.fragment = ip->fragment;
  if (auto t = parse_transport(*ip, out); !t) return core::fail(t.error());
  return out;
}

bool is_icmp_error_type(bool v6, std::uint8_t type) noexcept {
  if (v6) return type >= 1 && type <= 4;  // unreachable, too big, time exceeded, parameter
  // unreachable, source quench, time exceeded, parameter problem (redirects are not errors)
  return type == 3 || type == 4 || type == 11 || type == 12;
}

std::string icmp_error_name(bool v6, std::uint8_t type, std::uint8_t code) {
  if (v6) {
    switch (type) {
      case 1: {
        constexpr std::string_view names[] = {"no route to destination",
                                              "communication administratively prohibited",
                                              "beyond scope of source address",
                                              "address unreachable",
                                              "port unreachable",
                                              "source address failed ingress/egress policy",
                                              "reject route to destination"};
        if (code < std::size(names)) return std::string(names[code]);
        return "destination unreachable";
      }
      case 2:
        return "packet too big";
      case 3:
        return code == 1 ? "fragment reassembly time exceeded" : "hop limit exceeded in transit";
      case 4:
        return "parameter problem";
      default:
        return "ICMPv6 type " + std::to_string(type);
    }
  }
  switch (type) {
    case 3: {
      constexpr std::string_view names[] = {"network unreachable",
                                            "host unreachable",
                                            "protocol unreachable",
                                            "port unreachable",
                                            "fragmentation needed",
                                            "source route failed",
                                            "destination network unknown",
                                            "destination host unknown",
                                            "source host isolated",
                                            "network administratively prohibited",
                                            "host administratively prohibited",
                                            "network unreachable for TOS",
                                            "host unreachable for TOS",
                                            "communication administratively prohibited",
                                            "host precedence violation",
                                            "precedence cutoff in effect"};
      if (code < std::size(names)) return std::string(names[code]);
      return "destination unreachable";
    }
    case 4:
      return "source quench";
    case 11:
      return code == 1 ? "fragment reassembly time exceeded" : "TTL exceeded in transit";
    case 12:
      return "parameter problem";
    default:
      return "ICMP type " + std::to_string(type);
  }
}

}  // namespace gwprobe::probes::capture
