// Evidence: what the packets say about who really answered a failing connection, as facts and
// one sentence for the result's message. Pure: built from decoded packets, no libpcap.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/probe_result.hpp"
#include "probes/capture/flows.hpp"
#include "probes/capture/packet.hpp"

namespace gwprobe::probes::capture {

/// Stable fact keys added to results (reports and scripts read them).
namespace fact {
inline constexpr std::string_view evidence = "capture_evidence";  ///< the sentence
inline constexpr std::string_view flow = "capture_flow";          ///< "tcp a:p -> b:q"
inline constexpr std::string_view syns_sent = "capture_syns_sent";
inline constexpr std::string_view syn_retransmits = "capture_syn_retransmits";
inline constexpr std::string_view syn_span_ms = "capture_syn_span_ms";
inline constexpr std::string_view syn_answered = "capture_syn_answered";
inline constexpr std::string_view datagrams_sent = "capture_datagrams_sent";
inline constexpr std::string_view datagrams_received = "capture_datagrams_received";
inline constexpr std::string_view rst_from = "capture_rst_from";  ///< "server" or "client" side
inline constexpr std::string_view rst_ttl = "capture_rst_ttl";
inline constexpr std::string_view rst_ip_id = "capture_rst_ip_id";
inline constexpr std::string_view server_ttl = "capture_server_ttl";
inline constexpr std::string_view rst_injected = "capture_rst_injected";
inline constexpr std::string_view middlebox_hops = "capture_middlebox_hops";
inline constexpr std::string_view icmp = "capture_icmp";  ///< "host unreachable (type 3, code 1)"
inline constexpr std::string_view icmp_type = "capture_icmp_type";
inline constexpr std::string_view icmp_code = "capture_icmp_code";
inline constexpr std::string_view icmp_from = "capture_icmp_from";  ///< the reporting router
inline constexpr std::string_view tls_alert =
    "capture_tls_alert";  ///< "fatal handshake_failure (40)"
inline constexpr std::string_view tls_alert_from = "capture_tls_alert_from";  ///< side and address
inline constexpr std::string_view close_by = "capture_close_by";      ///< "client" or "server"
inline constexpr std::string_view close_with = "capture_close_with";  ///< "fin" or "rst"
inline constexpr std::string_view idle_before_close_ms = "capture_idle_before_close_ms";
}  // namespace fact

/// SYNs the client sent on one connection and whether anything came back.
struct SynEvidence {
  int sent = 0;                       ///< SYNs without ACK, first one included
  std::chrono::microseconds span{0};  ///< first SYN to last SYN
  bool answered = false;              ///< SYN-ACK, reset or ICMP error seen
  int retransmits() const { return sent > 1 ? sent - 1 : 0; }
};

/// UDP datagrams each way (DNS queries to a resolver).
struct DatagramEvidence {
  int sent = 0;
  int received = 0;
  std::chrono::microseconds span{0};
};

/// Who most likely sent a reset that carries the server's address.
enum class ResetOrigin {
  server,     ///< TTL (and IP ID) consistent with the server's own packets
  middlebox,  ///< TTL or IP ID inconsistent: injected on the path
  unknown,    ///< nothing from the server to compare with
};

struct ResetEvidence {
  int ttl = 0;
  std::optional<std::uint16_t> ip_id;
  bool before_handshake = true;              ///< no SYN-ACK from the server before the reset
  std::optional<int> flow_server_ttl;        ///< the server's TTL on this connection
  std::vector<int> other_flows_server_ttls;  ///< the server's TTLs on other connections
  std::optional<std::uint16_t> last_server_ip_id;
  bool ip_id_breaks_sequence = false;
  ResetOrigin origin = ResetOrigin::unknown;
  int hops = 0;  ///< estimated distance of the reset's sender, in hops from the client
};

struct IcmpEvidence {
  bool v6 = false;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  IpAddress reporter;        ///< who sent the error
  bool from_target = false;  ///< the reporter is the destination itself
  int ttl = 0;
  std::string name;  ///< "host unreachable"
};

struct TlsAlertEvidence {
  Side from = Side::server;
  Endpoint sender;
  std::uint8_t level = 0;
  std::uint8_t description = 0;
};

/// How an established connection ended: the first FIN or RST, from whom, after how much quiet.
struct CloseEvidence {
  Side by = Side::server;
  bool reset = false;
  bool data_seen = false;                        ///< any payload before the close
  std::chrono::microseconds after_last_data{0};  ///< or after the handshake when no data
};

/// Everything the capture says about one connection.
struct FlowEvidence {
  FlowKey flow;
  std::size_t packets = 0;
  bool handshake_seen = false;  ///< a SYN-ACK came from the server
  std::optional<SynEvidence> syn;
  std::optional<DatagramEvidence> datagrams;
  std::optional<ResetEvidence> reset;  ///< the first reset from the server side
  std::vector<IcmpEvidence> icmp;
  std::optional<TlsAlertEvidence> tls_alert;
  std::optional<CloseEvidence> close;

  /// How telling this flow's evidence is (0 = nothing worth saying); picks the flow whose facts
  /// a result gets when several match.
  int weight() const;
  /// The evidence in words, without the "Capture:" prefix or final period; "" when none.
  std::string summary() const;
  /// Adds the capture_* facts (not capture_evidence) to `result`.
  void add_facts(core::ProbeResult& result) const;
};

struct CaptureAnalysis {
  std::vector<FlowEvidence> flows;  ///< in order of first appearance
  std::size_t packets = 0;          ///< frames analysed
  std::size_t undecoded = 0;        ///< frames that were not IP or were malformed
};

/// Decodes, groups and judges. Never throws on any input bytes.
CaptureAnalysis analyse_packets(std::span<const CapturedPacket> packets);
/// The same, for packets already decoded (their spans must stay valid during the call).
CaptureAnalysis analyse_decoded(std::span<const DecodedPacket> packets);

/// Adds evidence to every result that did not pass (status fail, warn or error) and whose
/// connections the capture holds: the capture_* facts of the most telling matching flow, the
/// capture_evidence sentence, and that sentence appended to the message. A result's flows are
/// found by server endpoint, taken from: the target when its host is an IP literal; the facts
/// connect_tcp records ("connect ip:port" per attempt, "connected_to", "addresses" with the
/// target's port); for DNS results the "server" fact (the resolver that answered, or every one
/// asked: "ip:port, ip:port"). When the result has a "local_endpoint" fact
/// ("ip:port", or a list of them, one per attempt) only flows from those client endpoints
/// match; without it, several connections to one server cannot be told apart and the most
/// telling one is reported. Returns how many results got evidence.
std::size_t attach_evidence(std::vector<core::ProbeResult>& results,
                            const CaptureAnalysis& analysis);

/// RFC 8446 / RFC 5246 alert description name: "handshake_failure", "unknown_ca", ...
std::string tls_alert_name(std::uint8_t description);

/// The usual initial TTL a sender picked (64 Linux/macOS, 128 Windows, 255 network gear),
/// guessed as the smallest of those not below the observed TTL.
int initial_ttl_guess(int observed_ttl) noexcept;
/// Estimated hops from the capture point to the sender, counting the sender: a router that
/// answers directly is 1 hop away. An estimate: senders may start from other TTLs.
int estimated_hops(int observed_ttl) noexcept;

}  // namespace gwprobe::probes::capture
