// Flows: decoded packets grouped per connection (client ip:port <-> server ip:port), with the ICMP
// errors that quote them, and the cleartext TLS records each side sent. Pure, no libpcap.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probes/capture/packet.hpp"

namespace gwprobe::probes::capture {

enum class Side { client, server };
std::string_view to_string(Side side) noexcept;

/// A TCP or UDP conversation, oriented: the client is the side that opened it.
struct FlowKey {
  std::uint8_t protocol = ip_protocol::tcp;
  Endpoint client;
  Endpoint server;

  /// "tcp 10.0.0.1:40000 -> 10.0.0.2:443".
  std::string to_string() const;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowPacket {
  const DecodedPacket* packet = nullptr;
  Side from = Side::client;
};

struct Flow {
  FlowKey key;
  std::vector<FlowPacket> packets;                ///< in capture order
  std::vector<const DecodedPacket*> icmp_errors;  ///< errors quoting a packet of this flow
};

/// Groups TCP and UDP packets into flows and attaches every ICMP error to the flow whose packet
/// it quotes (an error quoting a packet that was not itself captured makes a flow of its own,
/// oriented as the quoted packet went). Orientation: the sender of a SYN without ACK is the
/// client; else the receiver of a SYN-ACK; for UDP the sender of the first datagram; else (a
/// capture that started mid-connection) the side with the lower port is taken as the server.
/// The result points into `packets`.
std::vector<Flow> group_flows(std::span<const DecodedPacket> packets);

/// A TLS alert record sent in clear, that is before its sender switched to encrypted records
/// (its ChangeCipherSpec or first application-data record): handshake failures, protocol
/// version refusals, a client rejecting an inspection proxy's certificate under TLS 1.2.
struct TlsAlertRecord {
  Side from = Side::client;
  std::uint8_t level = 0;        ///< 1 warning, 2 fatal
  std::uint8_t description = 0;  ///< RFC 8446 / RFC 5246 AlertDescription
  const DecodedPacket* packet = nullptr;
};

/// The first cleartext TLS alert on a TCP flow, from either side. Reads each direction as a
/// stream (ordered by sequence number, retransmissions ignored) and walks the record headers;
/// where a header was not captured it resynchronises at the next segment that starts with a
/// plausible record header (so a proxy's "HTTP/1.1 200" before the tunnelled TLS is skipped).
std::optional<TlsAlertRecord> first_cleartext_tls_alert(const Flow& flow);

}  // namespace gwprobe::probes::capture
