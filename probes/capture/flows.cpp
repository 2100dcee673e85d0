// Flow grouping and the TLS record walk over each direction's byte stream.
#include "probes/capture/flows.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace gwprobe::probes::capture {

namespace {

using UnorderedKey = std::tuple<std::uint8_t, Endpoint, Endpoint>;

UnorderedKey unordered(std::uint8_t protocol, const Endpoint& a, const Endpoint& b) {
  return a < b ? UnorderedKey{protocol, a, b} : UnorderedKey{protocol, b, a};
}

/// Decides which endpoint opened the conversation (see group_flows' contract).
FlowKey orient(const UnorderedKey& key, const std::vector<const DecodedPacket*>& packets) {
  const auto& [protocol, a, b] = key;
  auto sender = [](const DecodedPacket& p) {
    const std::uint16_t port = p.tcp ? p.tcp->source_port : p.udp ? p.udp->source_port : 0;
    return Endpoint{p.source, port};
  };
  for (const auto* p : packets) {
    if (!p->tcp || !p->tcp->has(tcp_flag::syn)) continue;
    const Endpoint from = sender(*p);
    const Endpoint to = from == a ? b : a;
    if (!p->tcp->has(tcp_flag::ack)) return FlowKey{protocol, from, to};
    return FlowKey{protocol, to, from};  // SYN-ACK: the sender is the server
  }
  if (protocol == ip_protocol::udp && !packets.empty()) {
    // The capture starts before the probes, so a UDP conversation's first datagram is the
    // query: its sender is the client.
    const Endpoint from = sender(*packets.front());
    return FlowKey{protocol, from, from == a ? b : a};
  }
  if (a.port != b.port) {
    return a.port < b.port ? FlowKey{protocol, b, a} : FlowKey{protocol, a, b};
  }
  return FlowKey{protocol, b, a};
}

/// Where to find bytes of one direction's stream: captured segments by stream offset.
struct Segment {
  std::uint32_t offset = 0;
  std::span<const std::uint8_t> bytes;  ///< captured prefix of the payload
  const DecodedPacket* packet = nullptr;
};

// The walk only looks at the start of each stream: alerts sent in clear come before the
// handshake ends, which is well inside the first few records.
constexpr std::uint32_t kTlsWalkBytes = 256 * 1024;
constexpr int kTlsMaxRecords = 512;
constexpr std::size_t kTlsRecordHeader = 5;
constexpr std::uint32_t kTlsMaxRecordLength = 16384 + 2048;  // TLSCiphertext limit, RFC 5246
constexpr std::uint8_t kContentChangeCipherSpec = 20;
constexpr std::uint8_t kContentAlert = 21;
constexpr std::uint8_t kContentHandshake = 22;
constexpr std::uint8_t kContentApplicationData = 23;
constexpr std::uint8_t kContentHeartbeat = 24;
// Segments behind the one found by offset that may still overlap it (retransmissions that
// were resegmented); more than this and the byte is treated as not captured.
constexpr int kOverlapLookBack = 8;

class StreamView {
 public:
  explicit StreamView(std::vector<Segment> segments) : segments_(std::move(segments)) {
    std::stable_sort(segments_.begin(), segments_.end(),
                     [](const Segment& x, const Segment& y) { return x.offset < y.offset; });
  }

  /// The captured byte at `offset` and the segment holding it, if captured.
  std::optional<std::pair<std::uint8_t, const Segment*>> at(std::uint32_t offset) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](std::uint32_t o, const Segment& s) { return o < s.offset; });
    for (int i = 0; i < kOverlapLookBack && it != segments_.begin(); ++i) {
      --it;
      if (offset - it->offset < it->bytes.size()) {
        return std::pair{it->bytes[offset - it->offset], &*it};
      }
    }
    return std::nullopt;
  }

  /// The first segment starting after `offset` whose first bytes look like a record header.
  std::optional<std::uint32_t> resync_after(std::uint32_t offset) const {
    for (const auto& s : segments_) {
      if (s.offset > offset && s.bytes.size() >= kTlsRecordHeader && plausible(s.bytes)) {
        return s.offset;
      }
    }
    return std::nullopt;
  }

  bool empty() const { return segments_.empty(); }
  std::uint32_t first_offset() const { return segments_.front().offset; }

  static bool plausible(std::span<const std::uint8_t> h) {
    const std::uint8_t type = h[0];
    const std::uint32_t length = (std::uint32_t{h[3]} << 8) | h[4];
    return type >= kContentChangeCipherSpec && type <= kContentHeartbeat && h[1] == 3 &&
           h[2] <= 4 && length <= kTlsMaxRecordLength;
  }

 private:
  std::vector<Segment> segments_;
};

StreamView stream_of(const Flow& flow, Side side) {
  std::optional<std::uint32_t> base;
  for (const auto& fp : flow.packets) {
    if (fp.from == side && fp.packet->tcp && fp.packet->tcp->has(tcp_flag::syn)) {
      base = fp.packet->tcp->seq + 1;
      break;
    }
  }
  std::vector<Segment> segments;
  for (const auto& fp : flow.packets) {
    if (fp.from != side || !fp.packet->tcp || fp.packet->tcp->payload_length == 0) continue;
    const auto& tcp = *fp.packet->tcp;
    if (!base) base = tcp.seq;  // capture began mid-stream: offsets relative to the first seen
    const std::uint32_t offset = tcp.seq - *base;
    if (offset >= kTlsWalkBytes) continue;  // beyond the walk, or before the base (wrapped)
    segments.push_back(Segment{offset, tcp.payload, fp.packet});
  }
  return StreamView(std::move(segments));
}

std::optional<TlsAlertRecord> first_alert_from(const Flow& flow, Side side) {
  const StreamView stream = stream_of(flow, side);
  if (stream.empty()) return std::nullopt;
  std::uint32_t pos = stream.first_offset();
  for (int records = 0; records < kTlsMaxRecords && pos < kTlsWalkBytes; ++records) {
    std::uint8_t header[kTlsRecordHeader];
    const Segment* holder = nullptr;
    bool complete = true;
    for (std::size_t i = 0; i < kTlsRecordHeader; ++i) {
      auto byte = stream.at(pos + static_cast<std::uint32_t>(i));
      if (!byte) {
        complete = false;
        break;
      }
      header[i] = byte->first;
      if (i == 0) holder = byte->second;
    }
    if (!complete || !StreamView::plausible(header)) {
      auto next = stream.resync_after(pos);
      if (!next) return std::nullopt;
      pos = *next;
      continue;
    }
    const std::uint8_t type = header[0];
    const std::uint32_t length = (std::uint32_t{header[3]} << 8) | header[4];
    // After its ChangeCipherSpec (TLS 1.2) or first encrypted record (TLS 1.3 without the
    // compatibility CCS) a side's alerts are encrypted: nothing more to read in clear.
    if (type == kContentChangeCipherSpec || type == kContentApplicationData) return std::nullopt;
    if (type == kContentAlert && length == 2) {
      auto level = stream.at(pos + kTlsRecordHeader);
      auto description = stream.at(pos + kTlsRecordHeader + 1);
      if (level && description && (level->first == 1 || level->first == 2)) {
        return TlsAlertRecord{side, level->first, description->first, holder->packet};
      }
    }
    if (type != kContentHandshake && type != kContentAlert) return std::nullopt;
    pos += static_cast<std::uint32_t>(kTlsRecordHeader) + length;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Side side) noexcept {
  return side == Side::client ? "client" : "server";
}

std::string FlowKey::to_string() const {
  const std::string_view name = protocol == ip_protocol::tcp   ? "tcp"
                                : protocol == ip_protocol::udp ? "udp"
                                                               : "ip";
  return std::string(name) + " " + client.to_string() + " -> " + server.to_string();
}

std::vector<Flow> group_flows(std::span<const DecodedPacket> packets) {
  std::map<UnorderedKey, std::vector<const DecodedPacket*>> members;
  std::map<UnorderedKey, std::vector<const DecodedPacket*>> errors;
  std::map<UnorderedKey, FlowKey> quoted_orientation;
  std::vector<UnorderedKey> order;  // first appearance, so flows come out in capture order
  auto note = [&](const UnorderedKey& key) {
    if (!members.contains(key) && !errors.contains(key)) order.push_back(key);
  };
  for (const auto& p : packets) {
    if (p.tcp || p.udp) {
      const auto protocol = p.tcp ? ip_protocol::tcp : ip_protocol::udp;
      const Endpoint src{p.source, p.tcp ? p.tcp->source_port : p.udp->source_port};
      const Endpoint dst{p.destination, p.tcp ? p.tcp->destination_port : p.udp->destination_port};
      const auto key = unordered(protocol, src, dst);
      note(key);
      members[key].push_back(&p);
    } else if (p.icmp_error && p.icmp_error->original_destination_port) {
      const auto& e = *p.icmp_error;
      if (e.original_protocol != ip_protocol::tcp && e.original_protocol != ip_protocol::udp) {
        continue;
      }
      const Endpoint src{e.original_source, *e.original_source_port};
      const Endpoint dst{e.original_destination, *e.original_destination_port};
      const auto key = unordered(e.original_protocol, src, dst);
      note(key);
      errors[key].push_back(&p);
      quoted_orientation.try_emplace(key, FlowKey{e.original_protocol, src, dst});
    }
  }
  std::vector<Flow> flows;
  flows.reserve(order.size());
  for (const auto& key : order) {
    Flow flow;
    const auto m = members.find(key);
    if (m != members.end()) {
      flow.key = orient(key, m->second);
      for (const auto* p : m->second) {
        const std::uint16_t sport = p->tcp ? p->tcp->source_port : p->udp->source_port;
        const bool from_client = Endpoint{p->source, sport} == flow.key.client &&
                                 p->destination == flow.key.server.address;
        flow.packets.push_back(FlowPacket{p, from_client ? Side::client : Side::server});
      }
    } else {
      flow.key = quoted_orientation.at(key);
    }
    if (auto e = errors.find(key); e != errors.end()) flow.icmp_errors = e->second;
    flows.push_back(std::move(flow));
  }
  return flows;
}

std::optional<TlsAlertRecord> first_cleartext_tls_alert(const Flow& flow) {
  if (flow.key.protocol != ip_protocol::tcp) return std::nullopt;
  auto from_client = first_alert_from(flow, Side::client);
  auto from_server = first_alert_from(flow, Side::server);
  if (from_client && from_server) {
    return from_client->packet->timestamp <= from_server->packet->timestamp ? from_client
                                                                            : from_server;
  }
  return from_client ? from_client : from_server;
}

}  // namespace gwprobe::probes::capture
