#include "probes/capture/evidence.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "probes/capture/packet_builder.hpp"

namespace gwprobe::probes::capture {
namespace {

using namespace build;
using namespace std::chrono_literals;
using std::chrono::microseconds;
using ::testing::HasSubstr;
using ::testing::Not;

IpAddress ip(std::string_view text) {
  return *IpAddress::parse(text);
}

constexpr std::uint8_t kSyn = tcp_flag::syn;
constexpr std::uint8_t kSynAck = tcp_flag::syn | tcp_flag::ack;
constexpr std::uint8_t kAck = tcp_flag::ack;
constexpr std::uint8_t kData = tcp_flag::ack | tcp_flag::psh;
constexpr std::uint8_t kFin = tcp_flag::fin | tcp_flag::ack;
constexpr std::uint8_t kRst = tcp_flag::rst;
constexpr std::uint8_t kRstAck = tcp_flag::rst | tcp_flag::ack;

/// One test network, in IPv4 or IPv6 and on any link type: a client, a server two hops away
/// behind a router, and the server's ports.
struct Net {
  bool v6 = false;
  LinkType link = LinkType::ethernet;

  Endpoint client(std::uint16_t port = 40000) const {
    return Endpoint{ip(v6 ? "2001:db8:1::2" : "10.231.1.2"), port};
  }
  Endpoint server(std::uint16_t port) const {
    return Endpoint{ip(v6 ? "2001:db8:2::2" : "10.231.2.2"), port};
  }
  IpAddress router() const { return ip(v6 ? "2001:db8:1::1" : "10.231.1.1"); }
  std::string name() const {
    return std::string(v6 ? "IPv6 over " : "IPv4 over ") + std::string(to_string(link));
  }
};

std::vector<Net> nets() {
  std::vector<Net> out;
  for (bool v6 : {false, true}) {
    for (auto link : {LinkType::ethernet, LinkType::linux_sll2, LinkType::raw_ip}) {
      out.push_back(Net{v6, link});
    }
  }
  return out;
}

/// Builds a TCP conversation between a client and a server endpoint.
class Conversation {
 public:
  Conversation(Script& script, Endpoint client, Endpoint server)
      : script_(script), client_(client), server_(server) {}

  Conversation& client(microseconds at, std::uint8_t flags, const Bytes& payload = {},
                       IpFields ip = {}) {
    const std::uint32_t seq = (flags & kSyn) ? kClientIsn : client_seq_;
    script_.at(at).add(
        tcp_packet(client_, server_,
                   {.flags = flags, .seq = seq, .ack = server_seq_, .payload = payload, .ip = ip}));
    client_seq_ = seq + static_cast<std::uint32_t>(payload.size()) + ((flags & kSyn) ? 1 : 0);
    return *this;
  }
  Conversation& server(microseconds at, std::uint8_t flags, const Bytes& payload = {},
                       IpFields ip = {}) {
    const std::uint32_t seq = (flags & kSyn) ? kServerIsn : server_seq_;
    script_.at(at).add(
        tcp_packet(server_, client_,
                   {.flags = flags, .seq = seq, .ack = client_seq_, .payload = payload, .ip = ip}));
    server_seq_ = seq + static_cast<std::uint32_t>(payload.size()) + ((flags & kSyn) ? 1 : 0);
    return *this;
  }
  /// SYN, SYN-ACK (server TTL given), ACK at t=0.
  Conversation& handshake(std::uint8_t server_ttl, std::uint16_t server_ip_id = 0) {
    client(0us, kSyn);
    server(100us, kSynAck, {}, {.ttl = server_ttl, .ip_id = server_ip_id});
    client(200us, kAck);
    return *this;
  }
  Bytes syn_bytes() const {
    return tcp_packet(client_, server_, {.flags = kSyn, .seq = kClientIsn});
  }

 private:
  static constexpr std::uint32_t kClientIsn = 1000;
  static constexpr std::uint32_t kServerIsn = 5000;
  Script& script_;
  Endpoint client_, server_;
  std::uint32_t client_seq_ = kClientIsn;
  std::uint32_t server_seq_ = kServerIsn;
};

const FlowEvidence& only_flow_to(const CaptureAnalysis& a, const Endpoint& server) {
  const FlowEvidence* found = nullptr;
  for (const auto& f : a.flows) {
    if (f.flow.server == server) {
      EXPECT_EQ(found, nullptr) << "two flows to " << server.to_string();
      found = &f;
    }
  }
  if (found == nullptr) {
    ADD_FAILURE() << "no flow to " << server.to_string();
    static const FlowEvidence none;
    return none;
  }
  return *found;
}

core::ProbeResult failed(std::string target, std::string message = "failed") {
  core::ProbeResult r;
  r.kind = "tcp";
  r.target = std::move(target);
  r.status = core::Status::fail;
  r.diagnosis = core::Diagnosis::tcp_refused;
  r.message = std::move(message);
  return r;
}

TEST(SynEvidence, SynsRetransmittedWithNoAnswerAreReportedAsSilentlyDropped) {
  for (const auto& net : nets()) {
    SCOPED_TRACE(net.name());
    Script s(net.link);
    Conversation c(s, net.client(), net.server(9350));
    c.client(0us, kSyn).client(1s, kSyn).client(3s, kSyn);
    const auto a = analyse_packets(s.packets());
    const auto& f = only_flow_to(a, net.server(9350));
    ASSERT_TRUE(f.syn);
    EXPECT_EQ(f.syn->sent, 3);
    EXPECT_EQ(f.syn->retransmits(), 2);
    EXPECT_EQ(f.syn->span, 3s);
    EXPECT_FALSE(f.syn->answered);
    EXPECT_EQ(f.flow.client, net.client());
    EXPECT_THAT(f.summary(),
                HasSubstr("3 SYNs to " + net.server(9350).to_string() + " over 3.0 s, no answer"));
    EXPECT_THAT(f.summary(), HasSubstr("dropped silently"));
  }
}

TEST(SynEvidence, ALateSynAckIsAHintNotADrop) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(443));
  c.client(0us, kSyn).client(1s, kSyn).server(1100ms, kSynAck, {}, {.ttl = 63});
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(443));
  ASSERT_TRUE(f.syn);
  EXPECT_TRUE(f.syn->answered);
  EXPECT_EQ(f.summary(), "the SYN was answered only after 1 retransmission (1.0 s)");
}

TEST(ResetEvidence, AResetWhoseTtlDiffersFromTheServersSynAckIsInjected) {
  for (const auto& net : nets()) {
    SCOPED_TRACE(net.name());
    Script s(net.link);
    Conversation c(s, net.client(), net.server(9357));
    c.handshake(63);
    c.client(1s, kData, {'h', 'i'});
    c.server(1001ms, kRst, {}, {.ttl = 64});  // the router, one hop away, resets
    const auto analysis = analyse_packets(s.packets());
    const auto& f = only_flow_to(analysis, net.server(9357));
    ASSERT_TRUE(f.reset);
    EXPECT_EQ(f.reset->origin, ResetOrigin::middlebox);
    EXPECT_EQ(f.reset->ttl, 64);
    EXPECT_EQ(f.reset->flow_server_ttl, 63);
    EXPECT_EQ(f.reset->hops, 1);
    EXPECT_FALSE(f.reset->before_handshake);
    EXPECT_THAT(f.summary(), HasSubstr("a reset with TTL 64 while the server's packets on this "
                                       "connection came with TTL 63: injected by a middlebox "
                                       "about 1 hop away"));
    EXPECT_THAT(f.summary(), HasSubstr("estimates"));
    ASSERT_TRUE(f.close);
    EXPECT_EQ(f.close->by, Side::server);
    EXPECT_TRUE(f.close->reset);

    core::ProbeResult r;
    f.add_facts(r);
    EXPECT_EQ(r.fact_text(fact::rst_ttl), "64");
    EXPECT_EQ(r.fact_text(fact::server_ttl), "63");
    EXPECT_EQ(r.fact_text(fact::rst_injected), "true");
    EXPECT_EQ(r.fact_text(fact::middlebox_hops), "1");
    EXPECT_EQ(r.fact_text(fact::close_by), "server");
    EXPECT_EQ(r.fact_text(fact::close_with), "rst");
  }
}

TEST(ResetEvidence, AResetWithoutSynAckIsJudgedByTheServersOtherConnections) {
  for (const auto& net : nets()) {
    SCOPED_TRACE(net.name());
    Script s(net.link);
    Conversation open(s, net.client(40001), net.server(443));
    open.handshake(63);
    Conversation refused(s, net.client(40002), net.server(9351));
    refused.client(1s, kSyn).server(1001ms, kRstAck, {}, {.ttl = 64});
    const auto a = analyse_packets(s.packets());
    const auto& f = only_flow_to(a, net.server(9351));
    ASSERT_TRUE(f.reset);
    EXPECT_TRUE(f.reset->before_handshake);
    EXPECT_FALSE(f.reset->flow_server_ttl);
    EXPECT_EQ(f.reset->other_flows_server_ttls, std::vector<int>{63});
    EXPECT_EQ(f.reset->origin, ResetOrigin::middlebox);
    EXPECT_THAT(f.summary(),
                HasSubstr("a reset with TTL 64 and no SYN-ACK, while the server's other "
                          "connections arrive with TTL 63: injected by a middlebox about 1 hop"));
    ASSERT_TRUE(f.syn);
    EXPECT_TRUE(f.syn->answered);
    EXPECT_FALSE(f.close);  // never established
  }
}

TEST(ResetEvidence, AResetWithTheServersTtlIsAttributedToTheServer) {
  Net net;
  Script s(net.link);
  Conversation open(s, net.client(40001), net.server(443));
  open.handshake(64);
  Conversation refused(s, net.client(40002), net.server(9351));
  refused.client(1s, kSyn).server(1001ms, kRstAck, {}, {.ttl = 64});
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(9351));
  ASSERT_TRUE(f.reset);
  EXPECT_EQ(f.reset->origin, ResetOrigin::server);
  EXPECT_EQ(f.summary(),
            "a reset with TTL 64, as the server's own packets have: most likely the server itself "
            "(or its host firewall) refused the connection");
  core::ProbeResult r;
  f.add_facts(r);
  EXPECT_EQ(r.fact_text(fact::rst_injected), "false");
  EXPECT_EQ(r.fact(fact::middlebox_hops), nullptr);
}

TEST(ResetEvidence, AResetWithNothingToCompareSaysSoAndGivesTheDistance) {
  Net net;
  Script s(net.link);
  Conversation refused(s, net.client(), net.server(9351));
  refused.client(0us, kSyn).server(1ms, kRstAck, {}, {.ttl = 62});
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(9351));
  ASSERT_TRUE(f.reset);
  EXPECT_EQ(f.reset->origin, ResetOrigin::unknown);
  EXPECT_EQ(f.reset->hops, 3);
  EXPECT_EQ(f.summary(),
            "a reset from 10.231.2.2 with TTL 62 (about 3 hops away); nothing else from that "
            "address was captured to tell a middlebox's reset from the server's own");
  core::ProbeResult r;
  f.add_facts(r);
  EXPECT_EQ(r.fact(fact::rst_injected), nullptr);
  EXPECT_EQ(r.fact_text(fact::rst_ttl), "62");
}

TEST(ResetEvidence, AResetOutsideTheServersIpIdSequenceIsProbablyInjected) {
  struct Case {
    std::uint16_t reset_id;
    ResetOrigin origin;
  };
  // Server data packets carry IDs 700, 701, 702 (a per-socket counter).
  const Case cases[] = {{40000, ResetOrigin::middlebox},
                        {703, ResetOrigin::server},
                        {0, ResetOrigin::server},  // Linux stack resets carry ID 0
                        {702, ResetOrigin::middlebox}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reset_id);
    Net net;
    Script s(net.link);
    Conversation conv(s, net.client(), net.server(443));
    conv.handshake(63);
    conv.client(1ms, kData, {'a'});
    conv.server(2ms, kData, {'b'}, {.ttl = 63, .ip_id = 700});
    conv.server(3ms, kData, {'c'}, {.ttl = 63, .ip_id = 701});
    conv.server(4ms, kData, {'d'}, {.ttl = 63, .ip_id = 702});
    conv.server(5ms, kRst, {}, {.ttl = 63, .ip_id = c.reset_id});
    const auto analysis = analyse_packets(s.packets());
    const auto& f = only_flow_to(analysis, net.server(443));
    ASSERT_TRUE(f.reset);
    EXPECT_EQ(f.reset->origin, c.origin);
    if (c.origin == ResetOrigin::middlebox) {
      EXPECT_THAT(f.summary(), HasSubstr("does not continue the server's IP ID sequence (last "
                                         "702): probably injected"));
    }
  }
}

TEST(IcmpEvidence, AnIcmpErrorNamesTheRouterAndTheFlowItQuotes) {
  for (const auto& net : nets()) {
    SCOPED_TRACE(net.name());
    Script s(net.link);
    Conversation c(s, net.client(), net.server(9353));
    c.client(0us, kSyn);
    const std::uint8_t type = net.v6 ? 1 : 3;
    const std::uint8_t code = net.v6 ? 3 : 1;  // address / host unreachable
    s.at(2ms).add(icmp_error(net.router(), net.client().address, type, code, c.syn_bytes(),
                             net.v6 ? 1232 : 28));
    const auto a = analyse_packets(s.packets());
    ASSERT_EQ(a.flows.size(), 1u);
    const auto& f = a.flows[0];
    ASSERT_EQ(f.icmp.size(), 1u);
    EXPECT_EQ(f.icmp[0].reporter, net.router());
    EXPECT_FALSE(f.icmp[0].from_target);
    EXPECT_TRUE(f.syn->answered);
    const std::string expected =
        net.v6 ? "ICMPv6 address unreachable (type 1, code 3) from router 2001:db8:1::1"
               : "ICMP host unreachable (type 3, code 1) from router 10.231.1.1";
    EXPECT_EQ(f.summary(), expected);
    core::ProbeResult r;
    f.add_facts(r);
    EXPECT_EQ(r.fact_text(fact::icmp_from), net.router().to_string());
    EXPECT_EQ(r.fact_text(fact::icmp_type), std::to_string(type));
    EXPECT_EQ(r.fact_text(fact::icmp_code), std::to_string(code));
  }
}

TEST(IcmpEvidence, AnErrorFromTheTargetItselfSaysSoAndAnErrorAloneMakesAFlow) {
  Net net;
  Script s(net.link);
  // Only the error was captured (the filter missed the SYN): the quote still orients the flow.
  const auto syn = tcp_packet(net.client(), net.server(9352), {.flags = kSyn});
  s.add(icmp_error(net.server(9352).address, net.client().address, 3, 3, syn, 28));
  const auto a = analyse_packets(s.packets());
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].flow.client, net.client());
  EXPECT_EQ(a.flows[0].flow.server, net.server(9352));
  EXPECT_EQ(a.flows[0].summary(),
            "ICMP port unreachable (type 3, code 3) from the target itself (10.231.2.2)");
}

TEST(DatagramEvidence, UnansweredDnsQueriesAndAPortUnreachableFromTheResolver) {
  Net net;
  Script s(net.link);
  const Endpoint resolver{ip("10.231.2.53"), 53};
  s.at(0us).add(udp_packet(net.client(5353), resolver, Bytes(30, 1)));
  s.at(1500ms).add(udp_packet(net.client(5353), resolver, Bytes(30, 1)));
  const Endpoint closed{ip("10.231.2.54"), 53};
  const auto query = udp_packet(net.client(5354), closed, Bytes(30, 1));
  s.at(2s).add(query).add(icmp_error(closed.address, net.client().address, 3, 3, query, 28));
  const auto a = analyse_packets(s.packets());
  EXPECT_EQ(only_flow_to(a, resolver).summary(),
            "2 datagrams to 10.231.2.53:53 over 1.5 s, no answer");
  EXPECT_THAT(only_flow_to(a, closed).summary(), HasSubstr("port unreachable"));
  EXPECT_THAT(only_flow_to(a, closed).summary(), Not(HasSubstr("no answer")));
}

TEST(DatagramEvidence, TheFirstSenderOfAUdpConversationIsTheClientWhateverThePorts) {
  Net net;
  Script s(net.link);
  const Endpoint resolver{ip("10.231.2.53"), 45000};  // a resolver on a high port
  s.at(0us).add(udp_packet(net.client(1024), resolver, Bytes(30, 1)));
  s.at(1ms).add(udp_packet(resolver, net.client(1024), Bytes(60, 2)));
  const auto analysis = analyse_packets(s.packets());
  ASSERT_EQ(analysis.flows.size(), 1u);
  EXPECT_EQ(analysis.flows[0].flow.client, net.client(1024));
  EXPECT_EQ(analysis.flows[0].flow.server, resolver);
  EXPECT_EQ(analysis.flows[0].datagrams->received, 1);
  EXPECT_EQ(analysis.flows[0].weight(), 0);  // answered: nothing to say
}

TEST(TlsAlertEvidence, AFatalAlertInClearFromTheServerIsReportedWithItsName) {
  for (const auto& net : nets()) {
    SCOPED_TRACE(net.name());
    Script s(net.link);
    Conversation c(s, net.client(), net.server(443));
    c.handshake(63);
    c.client(1ms, kData, tls_handshake(300));
    c.server(2ms, kData, tls_alert(2, 40));
    c.server(3ms, kFin);
    const auto analysis = analyse_packets(s.packets());
    const auto& f = only_flow_to(analysis, net.server(443));
    ASSERT_TRUE(f.tls_alert);
    EXPECT_EQ(f.tls_alert->from, Side::server);
    EXPECT_EQ(f.tls_alert->level, 2);
    EXPECT_EQ(f.tls_alert->description, 40);
    EXPECT_EQ(f.summary(),
              "TLS fatal alert handshake_failure (40) sent in clear by the server side (" +
                  net.server(443).to_string() + ") before the handshake completed");
    core::ProbeResult r;
    f.add_facts(r);
    EXPECT_EQ(r.fact_text(fact::tls_alert), "fatal handshake_failure (40)");
    EXPECT_EQ(r.fact_text(fact::tls_alert_from), "server " + net.server(443).to_string());
  }
}

TEST(TlsAlertEvidence, AClientRejectingACertificateUnderTls12IsTheClientSide) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(443));
  c.handshake(63);
  c.client(1ms, kData, tls_handshake(200));
  c.server(2ms, kData, concat({tls_handshake(90), tls_handshake(1200), tls_handshake(4)}));
  c.client(3ms, kData, tls_alert(2, 48));
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(443));
  ASSERT_TRUE(f.tls_alert);
  EXPECT_EQ(f.tls_alert->from, Side::client);
  EXPECT_EQ(tls_alert_name(f.tls_alert->description), "unknown_ca");
}

TEST(TlsAlertEvidence, AnAlertSplitAcrossSegmentsIsStillRead) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(443));
  c.handshake(63);
  c.client(1ms, kData, tls_handshake(100));
  const Bytes alert = tls_alert(2, 70);
  c.server(2ms, kData, Bytes(alert.begin(), alert.begin() + 3));
  c.server(3ms, kData, Bytes(alert.begin() + 3, alert.end()));
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(443));
  ASSERT_TRUE(f.tls_alert);
  EXPECT_EQ(tls_alert_name(f.tls_alert->description), "protocol_version");
}

TEST(TlsAlertEvidence, TheWalkSkipsAProxysHttpAnswerBeforeTheTunnelledTls) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(3128));
  c.handshake(64);
  const std::string connect = "CONNECT relay.example:443 HTTP/1.1\r\nHost: relay.example\r\n\r\n";
  const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
  c.client(1ms, kData, Bytes(connect.begin(), connect.end()));
  c.server(2ms, kData, Bytes(ok.begin(), ok.end()));
  c.client(3ms, kData, tls_handshake(250));
  c.server(4ms, kData, tls_alert(2, 112));
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(3128));
  ASSERT_TRUE(f.tls_alert);
  EXPECT_EQ(tls_alert_name(f.tls_alert->description), "unrecognized_name");
}

TEST(TlsAlertEvidence, AlertsAfterTheSwitchToEncryptionAreNotReadAsCleartext) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(443));
  c.handshake(63);
  c.client(1ms, kData, tls_handshake(100));
  // TLS 1.2: ChangeCipherSpec, then an encrypted alert (type 21, but longer than 2 bytes) and
  // one 2-byte record that must not be taken for a cleartext alert either.
  c.server(2ms, kData,
           concat({tls_handshake(80), tls_record(20, {1}), tls_record(21, Bytes(26, 9)),
                   tls_alert(2, 40)}));
  // TLS 1.3 without the compatibility CCS: application data first.
  c.client(3ms, kData, concat({tls_record(23, Bytes(40, 7)), tls_alert(2, 48)}));
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(443));
  EXPECT_FALSE(f.tls_alert);
}

TEST(CloseEvidence, TheSideThatClosedAnIdleConnectionAndHowLongAfterTheLastData) {
  struct Case {
    Side by;
    std::uint8_t flags;
    std::string text;
  };
  const Case cases[] = {
      {Side::server, kFin, "the server side closed the connection (FIN) 4.0 s after the last data"},
      {Side::client, kRstAck, "the client side reset the connection 4.0 s after the last data"}};
  for (const auto& net : nets()) {
    for (const auto& c : cases) {
      SCOPED_TRACE(net.name() + " " + c.text);
      Script s(net.link);
      Conversation conv(s, net.client(), net.server(443));
      conv.handshake(63);
      conv.client(1s, kData, {'p', 'i', 'n', 'g'});
      conv.server(1001ms, kData, {'p', 'o', 'n', 'g'}, {.ttl = 63});
      conv.client(1002ms, kAck);
      if (c.by == Side::server) {
        conv.server(5001ms, c.flags, {}, {.ttl = 63});
      } else {
        conv.client(5001ms, c.flags);
      }
      const auto analysis = analyse_packets(s.packets());
      const auto& f = only_flow_to(analysis, net.server(443));
      ASSERT_TRUE(f.close);
      EXPECT_EQ(f.close->by, c.by);
      EXPECT_EQ(f.close->after_last_data, 4s);
      EXPECT_EQ(f.summary(), c.text);
      core::ProbeResult r;
      f.add_facts(r);
      EXPECT_EQ(r.fact_text(fact::idle_before_close_ms), "4000");
    }
  }
}

TEST(CloseEvidence, AConnectionClosedWithoutDataCountsFromTheHandshake) {
  Net net;
  Script s(net.link);
  Conversation c(s, net.client(), net.server(443));
  c.handshake(63);
  c.server(3s, kFin, {}, {.ttl = 63});
  const auto analysis = analyse_packets(s.packets());
  const auto& f = only_flow_to(analysis, net.server(443));
  EXPECT_EQ(f.summary(),
            "the server side closed the connection (FIN) 3.0 s after the handshake, with no data "
            "exchanged");
}

TEST(Hops, EstimateFromTheUsualInitialTtls) {
  EXPECT_EQ(initial_ttl_guess(64), 64);
  EXPECT_EQ(initial_ttl_guess(1), 64);
  EXPECT_EQ(initial_ttl_guess(65), 128);
  EXPECT_EQ(initial_ttl_guess(120), 128);
  EXPECT_EQ(initial_ttl_guess(250), 255);
  EXPECT_EQ(estimated_hops(64), 1);
  EXPECT_EQ(estimated_hops(63), 2);
  EXPECT_EQ(estimated_hops(120), 9);
  EXPECT_EQ(estimated_hops(255), 1);
}

TEST(TlsAlertName, CoversRfc8446AndOlderCodes) {
  EXPECT_EQ(tls_alert_name(0), "close_notify");
  EXPECT_EQ(tls_alert_name(40), "handshake_failure");
  EXPECT_EQ(tls_alert_name(42), "bad_certificate");
  EXPECT_EQ(tls_alert_name(70), "protocol_version");
  EXPECT_EQ(tls_alert_name(116), "certificate_required");
  EXPECT_EQ(tls_alert_name(120), "no_application_protocol");
  EXPECT_EQ(tls_alert_name(200), "unknown_alert_200");
}

/// A capture with a filtered port, an injected reset and a host-unreachable, for matching tests.
CaptureAnalysis mixed_capture(const Net& net) {
  Script s(net.link);
  Conversation open(s, net.client(40001), net.server(443));
  open.handshake(63);
  Conversation dropped(s, net.client(40002), net.server(9350));
  dropped.client(0us, kSyn).client(1s, kSyn);
  Conversation reset(s, net.client(40003), net.server(9351));
  reset.client(0us, kSyn).server(1ms, kRstAck, {}, {.ttl = 64});
  Conversation unreachable(s, net.client(40004), net.server(9353));
  unreachable.client(0us, kSyn);
  const auto syn = unreachable.syn_bytes();
  s.at(1ms).add(icmp_error(net.router(), net.client().address, net.v6 ? 1 : 3, net.v6 ? 3 : 1, syn,
                           net.v6 ? syn.size() : 28));
  return analyse_packets(s.packets());
}

TEST(AttachEvidence, FailingResultsGetFactsAndASentenceAndPassingOnesAreLeftAlone) {
  Net net;
  const auto analysis = mixed_capture(net);
  std::vector<core::ProbeResult> results = {
      failed("10.231.2.2:9350", "no answer"), failed("10.231.2.2:9351", "refused"),
      failed("10.231.2.2:9353", "unreachable"), failed("10.231.2.2:443")};
  results[3].status = core::Status::pass;
  results[3].message = "connected";
  EXPECT_EQ(attach_evidence(results, analysis), 3u);

  EXPECT_EQ(results[0].fact_text(fact::syns_sent), "2");
  EXPECT_EQ(results[0].fact_text(fact::syn_retransmits), "1");
  EXPECT_THAT(results[0].message,
              HasSubstr("no answer. Capture: 2 SYNs to 10.231.2.2:9350 over 1.0 s"));
  EXPECT_EQ(results[0].fact_text(fact::evidence).back(), '.');

  EXPECT_EQ(results[1].fact_text(fact::rst_injected), "true");
  EXPECT_EQ(results[1].fact_text(fact::server_ttl), "63");
  EXPECT_THAT(results[1].message, HasSubstr("injected by a middlebox about 1 hop away"));

  EXPECT_EQ(results[2].fact_text(fact::icmp_from), "10.231.1.1");
  EXPECT_THAT(results[2].fact_text(fact::evidence),
              HasSubstr("ICMP host unreachable (type 3, code 1) from router 10.231.1.1"));

  EXPECT_EQ(results[3].message, "connected");
  EXPECT_TRUE(results[3].facts.empty());
}

TEST(AttachEvidence, FindsFlowsThroughTheAddressFactsOfANamedTarget) {
  Net net{true, LinkType::linux_sll2};
  const auto analysis = mixed_capture(net);
  auto by_addresses = failed("relay.example:9351");
  by_addresses.set_fact("addresses", std::vector<std::string>{"2001:db8:2::2", "10.9.9.9"});
  auto by_connected = failed("relay.example:9353");
  by_connected.set_fact("connected_to", std::string("[2001:db8:2::2]:9353"));
  auto unmatched = failed("relay.example:9350");  // a name and no address facts
  std::vector<core::ProbeResult> results = {by_addresses, by_connected, unmatched};
  EXPECT_EQ(attach_evidence(results, analysis), 2u);
  EXPECT_EQ(results[0].fact_text(fact::rst_injected), "true");
  EXPECT_EQ(results[1].fact_text(fact::icmp_type), "1");  // ICMPv6 destination unreachable
  EXPECT_EQ(results[2].fact(fact::evidence), nullptr);
  EXPECT_EQ(results[2].message, "failed");
}

TEST(AttachEvidence, ReadsTheConnectFactsConnectTcpRecordsPerAttempt) {
  Net net;
  const auto analysis = mixed_capture(net);
  auto r = failed("relay.example:9351");
  r.set_fact("connect 10.231.2.2:9351", std::string("refused (ECONNREFUSED)"));
  r.set_fact("connect 10.231.2.9:9351", std::string("filtered"));  // an address never captured
  std::vector<core::ProbeResult> results = {r};
  ASSERT_EQ(attach_evidence(results, analysis), 1u);
  EXPECT_EQ(results[0].fact_text(fact::rst_injected), "true");
}

TEST(AttachEvidence, MatchesDnsResultsByTheResolversTheyAsked) {
  Net net;
  Script s(net.link);
  const Endpoint silent{ip("10.231.2.53"), 53};
  s.at(0us).add(udp_packet(net.client(5353), silent, Bytes(30, 1)));
  s.at(1500ms).add(udp_packet(net.client(5353), silent, Bytes(30, 1)));
  const auto analysis = analyse_packets(s.packets());
  auto timeout = failed("relay.example");
  timeout.kind = "dns";
  timeout.diagnosis = core::Diagnosis::dns_timeout;
  timeout.set_fact("server", std::string("10.231.2.53:53, 10.231.2.54:53"));
  auto not_dns = timeout;  // "server" means a resolver only on DNS results
  not_dns.kind = "tcp";
  std::vector<core::ProbeResult> results = {timeout, not_dns};
  ASSERT_EQ(attach_evidence(results, analysis), 1u);
  EXPECT_EQ(results[0].fact_text(fact::datagrams_sent), "2");
  EXPECT_EQ(results[0].fact_text(fact::datagrams_received), "0");
  EXPECT_THAT(results[0].message, HasSubstr("2 datagrams to 10.231.2.53:53 over 1.5 s, no answer"));
  EXPECT_EQ(results[1].fact(fact::evidence), nullptr);
}

TEST(AttachEvidence, ALocalEndpointFactPicksTheRightAttemptAmongSeveral) {
  Net net;
  Script s(net.link);
  Conversation first(s, net.client(40010), net.server(443));
  first.client(0us, kSyn).server(1ms, kRstAck, {}, {.ttl = 64});
  Conversation second(s, net.client(40011), net.server(443));
  second.client(10ms, kSyn).client(1010ms, kSyn);
  const auto analysis = analyse_packets(s.packets());

  auto pinned = failed("10.231.2.2:443");
  pinned.set_fact("local_endpoint", std::string("10.231.1.2:40011"));
  auto unpinned = failed("10.231.2.2:443");
  std::vector<core::ProbeResult> results = {pinned, unpinned};
  EXPECT_EQ(attach_evidence(results, analysis), 2u);
  EXPECT_EQ(results[0].fact_text(fact::flow), "tcp 10.231.1.2:40011 -> 10.231.2.2:443");
  EXPECT_EQ(results[0].fact(fact::rst_ttl), nullptr);
  EXPECT_THAT(results[0].message, Not(HasSubstr("connections to this address")));
  EXPECT_THAT(results[1].message, HasSubstr("2 connections to this address were captured"));
}

TEST(AttachEvidence, SeveralAddressesOfOneTargetAreNamedInOneSentence) {
  Script s(LinkType::ethernet);
  const Endpoint v4{ip("10.231.2.2"), 443}, v6{ip("2001:db8:2::2"), 443};
  Conversation a(s, Endpoint{ip("10.231.1.2"), 40000}, v4);
  a.client(0us, kSyn).client(1s, kSyn);
  Conversation b(s, Endpoint{ip("2001:db8:1::2"), 40000}, v6);
  b.client(0us, kSyn).server(1ms, kRstAck, {}, {.ttl = 64});
  auto r = failed("relay.example:443");
  r.set_fact("addresses", std::vector<std::string>{"10.231.2.2", "2001:db8:2::2"});
  std::vector<core::ProbeResult> results = {r};
  ASSERT_EQ(attach_evidence(results, analyse_packets(s.packets())), 1u);
  EXPECT_THAT(results[0].message, HasSubstr("to 10.231.2.2:443: 2 SYNs"));
  EXPECT_THAT(results[0].message, HasSubstr("; to [2001:db8:2::2]:443: a reset"));
}

}  // namespace
}  // namespace gwprobe::probes::capture
