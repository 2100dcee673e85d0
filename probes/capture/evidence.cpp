// Judging flows: unanswered SYNs, injected resets (TTL / IP ID against the server's own packets),
// ICMP errors and their routers, cleartext TLS alerts, and who closed an idle connection.
#include "probes/capture/evidence.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "core/duration.hpp"
#include "core/target.hpp"

namespace gwprobe::probes::capture {

namespace {

using std::chrono::microseconds;

// Consecutive IP IDs of one sender on one connection grow by small steps (Linux: per-socket
// counter; Windows: a global counter shared with other traffic, hence the slack).
constexpr int kIpIdSequenceMaxStep = 256;
// How far past the server's last IP ID its own reset may plausibly be.
constexpr int kIpIdWindow = 1024;
// Flows named in one result's sentence; more would not read as one sentence.
constexpr std::size_t kMaxFlowsInSentence = 3;

constexpr int kWeightDecisive = 50;  // ICMP error, injected reset
constexpr int kWeightStrong = 40;    // TLS alert
constexpr int kWeightClear = 30;     // a reset, silence after SYNs or queries
constexpr int kWeightClose = 20;
constexpr int kWeightHint = 10;  // late SYN-ACK, the client closing first

std::string plural(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string ttl_list(const std::vector<int>& ttls) {
  std::string out;
  for (std::size_t i = 0; i < ttls.size(); ++i) {
    if (i > 0) out += i + 1 == ttls.size() ? " or " : ", ";
    out += std::to_string(ttls[i]);
  }
  return out;
}

bool contains(const std::vector<int>& values, int v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

void add_unique(std::vector<int>& values, int v) {
  if (!contains(values, v)) values.push_back(v);
}

/// TTLs of the server's own (non-reset) packets on a connection it accepted with a SYN-ACK.
std::vector<int> accepted_server_ttls(const Flow& flow) {
  std::vector<int> ttls;
  bool accepted = false;
  for (const auto& fp : flow.packets) {
    if (fp.from != Side::server || !fp.packet->tcp) continue;
    if (fp.packet->tcp->has(tcp_flag::syn) && fp.packet->tcp->has(tcp_flag::ack)) accepted = true;
    if (!fp.packet->tcp->has(tcp_flag::rst)) add_unique(ttls, fp.packet->ttl);
  }
  return accepted ? ttls : std::vector<int>{};
}

bool ip_ids_sequential(const std::vector<std::uint16_t>& ids) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    const int step = static_cast<std::uint16_t>(ids[i] - ids[i - 1]);
    if (step > kIpIdSequenceMaxStep) return false;
  }
  return true;
}

ResetEvidence judge_reset(const Flow& flow, std::size_t reset_index,
                          const std::vector<int>& other_flows_ttls) {
  const DecodedPacket& rst = *flow.packets[reset_index].packet;
  ResetEvidence r;
  r.ttl = rst.ttl;
  r.ip_id = rst.ip_id;
  r.hops = estimated_hops(rst.ttl);
  r.other_flows_server_ttls = other_flows_ttls;
  std::vector<int> flow_ttls;
  std::vector<std::uint16_t> ids;
  for (std::size_t i = 0; i < reset_index; ++i) {
    const auto& fp = flow.packets[i];
    if (fp.from != Side::server || !fp.packet->tcp || fp.packet->tcp->has(tcp_flag::rst)) continue;
    if (fp.packet->tcp->has(tcp_flag::syn)) r.before_handshake = false;
    add_unique(flow_ttls, fp.packet->ttl);
    // ID 0 is what Linux puts on DF packets that belong to no connected socket (SYN-ACKs,
    // stack-generated resets): it carries no sequence.
    if (fp.packet->ip_id && *fp.packet->ip_id != 0) ids.push_back(*fp.packet->ip_id);
  }
  if (!flow_ttls.empty()) r.flow_server_ttl = flow_ttls.front();
  if (ids.size() >= 2 && ip_ids_sequential(ids) && rst.ip_id && *rst.ip_id != 0) {
    r.last_server_ip_id = ids.back();
    const int ahead = static_cast<std::uint16_t>(*rst.ip_id - ids.back());
    r.ip_id_breaks_sequence = ahead == 0 || ahead >= kIpIdWindow;
  }
  if (!flow_ttls.empty()) {
    r.origin = !contains(flow_ttls, r.ttl) || r.ip_id_breaks_sequence ? ResetOrigin::middlebox
                                                                      : ResetOrigin::server;
  } else if (!other_flows_ttls.empty()) {
    r.origin = contains(other_flows_ttls, r.ttl) ? ResetOrigin::server : ResetOrigin::middlebox;
  }
  return r;
}

std::optional<CloseEvidence> judge_close(const Flow& flow) {
  std::optional<microseconds> handshake_at;
  std::optional<microseconds> last_data;
  for (const auto& fp : flow.packets) {
    const auto& p = *fp.packet;
    if (!p.tcp) continue;
    if (fp.from == Side::server && p.tcp->has(tcp_flag::syn) && p.tcp->has(tcp_flag::ack)) {
      handshake_at = p.timestamp;
      continue;
    }
    if (!handshake_at) continue;
    if (p.tcp->has(tcp_flag::fin) || p.tcp->has(tcp_flag::rst)) {
      CloseEvidence c;
      c.by = fp.from;
      c.reset = p.tcp->has(tcp_flag::rst);
      c.data_seen = last_data.has_value();
      c.after_last_data = p.timestamp - (last_data ? *last_data : *handshake_at);
      return c;
    }
    if (p.tcp->payload_length > 0) last_data = p.timestamp;
  }
  return std::nullopt;
}

FlowEvidence judge_flow(const Flow& flow, const std::vector<int>& other_flows_ttls) {
  FlowEvidence ev;
  ev.flow = flow.key;
  ev.packets = flow.packets.size();
  for (const auto* p : flow.icmp_errors) {
    const auto& e = *p->icmp_error;
    IcmpEvidence i;
    i.v6 = e.v6;
    i.type = e.type;
    i.code = e.code;
    i.reporter = p->source;
    i.from_target = p->source == flow.key.server.address;
    i.ttl = p->ttl;
    i.name = icmp_error_name(e.v6, e.type, e.code);
    ev.icmp.push_back(std::move(i));
  }
  bool server_spoke = false;
  for (const auto& fp : flow.packets) server_spoke = server_spoke || fp.from == Side::server;

  if (flow.key.protocol == ip_protocol::udp) {
    DatagramEvidence d;
    std::optional<microseconds> first, last;
    for (const auto& fp : flow.packets) {
      if (fp.from == Side::server) {
        ++d.received;
        continue;
      }
      ++d.sent;
      if (!first) first = fp.packet->timestamp;
      last = fp.packet->timestamp;
    }
    if (first) d.span = *last - *first;
    ev.datagrams = d;
    return ev;
  }

  SynEvidence syn;
  std::optional<microseconds> first_syn, last_syn;
  std::optional<std::size_t> reset_index;
  for (std::size_t i = 0; i < flow.packets.size(); ++i) {
    const auto& fp = flow.packets[i];
    if (!fp.packet->tcp) continue;
    const auto& tcp = *fp.packet->tcp;
    if (fp.from == Side::client && tcp.has(tcp_flag::syn) && !tcp.has(tcp_flag::ack)) {
      ++syn.sent;
      if (!first_syn) first_syn = fp.packet->timestamp;
      last_syn = fp.packet->timestamp;
    }
    if (fp.from == Side::server && tcp.has(tcp_flag::syn) && tcp.has(tcp_flag::ack)) {
      ev.handshake_seen = true;
    }
    if (fp.from == Side::server && tcp.has(tcp_flag::rst) && !reset_index) reset_index = i;
  }
  if (syn.sent > 0) {
    syn.span = *last_syn - *first_syn;
    syn.answered = server_spoke || !flow.icmp_errors.empty();
    ev.syn = syn;
  }
  if (reset_index) ev.reset = judge_reset(flow, *reset_index, other_flows_ttls);
  ev.close = judge_close(flow);
  if (auto alert = first_cleartext_tls_alert(flow)) {
    ev.tls_alert = TlsAlertEvidence{alert->from,
                                    alert->from == Side::client ? flow.key.client : flow.key.server,
                                    alert->level, alert->description};
  }
  return ev;
}

std::string icmp_text(const IcmpEvidence& i) {
  return std::string(i.v6 ? "ICMPv6 " : "ICMP ") + i.name + " (type " + std::to_string(i.type) +
         ", code " + std::to_string(i.code) + ")";
}

std::string hops_text(int hops) {
  return "about " + plural(hops, "hop", "hops") + " away";
}

std::string reset_text(const ResetEvidence& r, const FlowKey& flow) {
  const std::string ttl = "TTL " + std::to_string(r.ttl);
  constexpr std::string_view estimate = " (hop counts are estimates from the usual initial TTLs)";
  switch (r.origin) {
    case ResetOrigin::middlebox:
      if (r.flow_server_ttl && r.ttl != *r.flow_server_ttl) {
        return "a reset with " + ttl +
               " while the server's packets on this connection came with TTL " +
               std::to_string(*r.flow_server_ttl) + ": injected by a middlebox " +
               hops_text(r.hops) + std::string(estimate);
      }
      if (r.ip_id_breaks_sequence) {
        return "a reset whose IP ID " + std::to_string(*r.ip_id) +
               " does not continue the server's IP ID sequence (last " +
               std::to_string(*r.last_server_ip_id) + "): probably injected by a middlebox " +
               hops_text(r.hops) + std::string(estimate);
      }
      return "a reset with " + ttl + " and no SYN-ACK, while the server's other connections " +
             "arrive with TTL " + ttl_list(r.other_flows_server_ttls) +
             ": injected by a middlebox " + hops_text(r.hops) + std::string(estimate);
    case ResetOrigin::server:
      return "a reset with " + ttl + ", as the server's own packets have: most likely the server " +
             (r.before_handshake ? "itself (or its host firewall) refused the connection"
                                 : "itself reset it");
    case ResetOrigin::unknown:
      break;
  }
  return "a reset from " + flow.server.address.to_string() + " with " + ttl + " (" +
         hops_text(r.hops) + "); nothing else from that address was captured to tell a " +
         "middlebox's reset from the server's own";
}

std::string close_text(const CloseEvidence& c) {
  // A reset "from the server" may not be the server's (see the reset verdict that follows).
  std::string out =
      c.reset && c.by == Side::server
          ? std::string("the connection was reset from the server's side ")
      : c.reset ? std::string("the client side reset the connection ")
                : "the " + std::string(to_string(c.by)) + " side closed the connection (FIN) ";
  out += core::format_duration(c.after_last_data);
  out += c.data_seen ? " after the last data" : " after the handshake, with no data exchanged";
  return out;
}

std::string tls_text(const TlsAlertEvidence& t) {
  const std::string level = t.level == 2 ? "fatal" : "warning";
  return "TLS " + level + " alert " + tls_alert_name(t.description) + " (" +
         std::to_string(t.description) + ") sent in clear by the " +
         std::string(to_string(t.from)) + " side (" + t.sender.to_string() +
         ") before the handshake completed";
}

/// Endpoints named by a fact: a string, a ", "-separated string, or a list of strings.
void endpoints_from_fact(const core::ProbeResult& result, std::string_view key,
                         std::uint16_t default_port, std::set<Endpoint>& into) {
  const auto* value = result.fact(key);
  if (!value) return;
  auto add = [&](std::string_view text) {
    if (auto e = Endpoint::parse(text, default_port); e && e->port != 0) into.insert(*e);
  };
  if (const auto* s = std::get_if<std::string>(value)) {
    std::string_view rest = *s;
    for (auto comma = rest.find(", "); comma != std::string_view::npos; comma = rest.find(", ")) {
      add(rest.substr(0, comma));
      rest.remove_prefix(comma + 2);
    }
    add(rest);
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(value)) {
    for (const auto& s : *list) add(s);
  }
}

// connect_tcp records one fact per attempt: "connect 10.0.0.1:443" -> "refused (...)".
constexpr std::string_view kConnectFactPrefix = "connect ";
constexpr std::uint16_t kDnsPort = 53;

}  // namespace

int initial_ttl_guess(int observed_ttl) noexcept {
  if (observed_ttl <= 64) return 64;
  if (observed_ttl <= 128) return 128;
  return 255;
}

int estimated_hops(int observed_ttl) noexcept {
  return initial_ttl_guess(observed_ttl) - observed_ttl + 1;
}

std::string tls_alert_name(std::uint8_t description) {
  static const std::map<int, std::string_view> names = {
      {0, "close_notify"},
      {10, "unexpected_message"},
      {20, "bad_record_mac"},
      {21, "decryption_failed"},
      {22, "record_overflow"},
      {30, "decompression_failure"},
      {40, "handshake_failure"},
      {41, "no_certificate"},
      {42, "bad_certificate"},
      {43, "unsupported_certificate"},
      {44, "certificate_revoked"},
      {45, "certificate_expired"},
      {46, "certificate_unknown"},
      {47, "illegal_parameter"},
      {48, "unknown_ca"},
      {49, "access_denied"},
      {50, "decode_error"},
      {51, "decrypt_error"},
      {60, "export_restriction"},
      {70, "protocol_version"},
      {71, "insufficient_security"},
      {80, "internal_error"},
      {86, "inappropriate_fallback"},
      {90, "user_canceled"},
      {100, "no_renegotiation"},
      {109, "missing_extension"},
      {110, "unsupported_extension"},
      {111, "certificate_unobtainable"},
      {112, "unrecognized_name"},
      {113, "bad_certificate_status_response"},
      {114, "bad_certificate_hash_value"},
      {115, "unknown_psk_identity"},
      {116, "certificate_required"},
      {120, "no_application_protocol"},
  };
  if (auto it = names.find(description); it != names.end()) return std::string(it->second);
  return "unknown_alert_" + std::to_string(description);
}

int FlowEvidence::weight() const {
  int w = 0;
  if (!icmp.empty()) w += kWeightDecisive;
  if (reset) w += reset->origin == ResetOrigin::middlebox ? kWeightDecisive : kWeightClear;
  if (tls_alert) w += kWeightStrong;
  if (syn && !syn->answered) w += kWeightClear;
  if (datagrams && datagrams->sent > 0 && datagrams->received == 0 && icmp.empty()) {
    w += kWeightClear;
  }
  if (close) w += close->by == Side::server ? kWeightClose : kWeightHint;
  if (syn && syn->answered && syn->retransmits() > 0) w += kWeightHint;
  return w;
}

std::string FlowEvidence::summary() const {
  std::vector<std::string> parts;
  if (syn && !syn->answered) {
    if (syn->sent == 1) {
      parts.push_back("1 SYN to " + flow.server.to_string() +
                      ", no answer (no SYN-ACK, reset or ICMP error)");
    } else {
      parts.push_back(
          plural(syn->sent, "SYN", "SYNs") + " to " + flow.server.to_string() + " over " +
          core::format_duration(syn->span) +
          ", no answer (no SYN-ACK, reset or ICMP error): dropped silently on the path");
    }
  } else if (syn && handshake_seen && syn->retransmits() > 0) {
    parts.push_back("the SYN was answered only after " +
                    plural(syn->retransmits(), "retransmission", "retransmissions") + " (" +
                    core::format_duration(syn->span) + ")");
  }
  if (datagrams && datagrams->sent > 0 && datagrams->received == 0 && icmp.empty()) {
    parts.push_back(plural(datagrams->sent, "datagram", "datagrams") + " to " +
                    flow.server.to_string() + " over " + core::format_duration(datagrams->span) +
                    ", no answer");
  }
  if (!icmp.empty()) {
    const auto& first = icmp.front();
    std::string text = icmp_text(first) + " from " +
                       (first.from_target ? "the target itself (" + first.reporter.to_string() + ")"
                                          : "router " + first.reporter.to_string());
    if (icmp.size() > 1)
      text += " (" + plural(static_cast<int>(icmp.size()), "error", "errors") + " in all)";
    parts.push_back(std::move(text));
  }
  if (close && !tls_alert) parts.push_back(close_text(*close));
  if (reset) parts.push_back(reset_text(*reset, flow));
  if (tls_alert) parts.push_back(tls_text(*tls_alert));
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

void FlowEvidence::add_facts(core::ProbeResult& result) const {
  result.set_fact(fact::flow, flow.to_string());
  if (syn) {
    result.set_fact(fact::syns_sent, std::int64_t{syn->sent});
    result.set_fact(fact::syn_retransmits, std::int64_t{syn->retransmits()});
    result.set_fact(fact::syn_span_ms, core::to_ms(syn->span));
    result.set_fact(fact::syn_answered, syn->answered);
  }
  if (datagrams) {
    result.set_fact(fact::datagrams_sent, std::int64_t{datagrams->sent});
    result.set_fact(fact::datagrams_received, std::int64_t{datagrams->received});
  }
  if (reset) {
    result.set_fact(fact::rst_from, std::string(to_string(Side::server)));
    result.set_fact(fact::rst_ttl, std::int64_t{reset->ttl});
    if (reset->ip_id) result.set_fact(fact::rst_ip_id, std::int64_t{*reset->ip_id});
    if (reset->flow_server_ttl) {
      result.set_fact(fact::server_ttl, std::int64_t{*reset->flow_server_ttl});
    } else if (!reset->other_flows_server_ttls.empty()) {
      result.set_fact(fact::server_ttl, std::int64_t{reset->other_flows_server_ttls.front()});
    }
    if (reset->origin != ResetOrigin::unknown) {
      result.set_fact(fact::rst_injected, reset->origin == ResetOrigin::middlebox);
    }
    if (reset->origin == ResetOrigin::middlebox) {
      result.set_fact(fact::middlebox_hops, std::int64_t{reset->hops});
    }
  }
  if (!icmp.empty()) {
    const auto& first = icmp.front();
    result.set_fact(fact::icmp, first.name + " (type " + std::to_string(first.type) + ", code " +
                                    std::to_string(first.code) + ")");
    result.set_fact(fact::icmp_type, std::int64_t{first.type});
    result.set_fact(fact::icmp_code, std::int64_t{first.code});
    result.set_fact(fact::icmp_from, first.reporter.to_string());
  }
  if (tls_alert) {
    result.set_fact(fact::tls_alert, std::string(tls_alert->level == 2 ? "fatal " : "warning ") +
                                         tls_alert_name(tls_alert->description) + " (" +
                                         std::to_string(tls_alert->description) + ")");
    result.set_fact(fact::tls_alert_from,
                    std::string(to_string(tls_alert->from)) + " " + tls_alert->sender.to_string());
  }
  if (close) {
    result.set_fact(fact::close_by, std::string(to_string(close->by)));
    result.set_fact(fact::close_with, std::string(close->reset ? "rst" : "fin"));
    result.set_fact(fact::idle_before_close_ms, core::to_ms(close->after_last_data));
  }
}

CaptureAnalysis analyse_decoded(std::span<const DecodedPacket> packets) {
  CaptureAnalysis analysis;
  analysis.packets = packets.size();
  const auto flows = group_flows(packets);
  std::vector<std::vector<int>> accepted(flows.size());
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (flows[i].key.protocol == ip_protocol::tcp) accepted[i] = accepted_server_ttls(flows[i]);
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    std::vector<int> others;
    for (std::size_t j = 0; j < flows.size(); ++j) {
      if (j == i || flows[j].key.server.address != flows[i].key.server.address) continue;
      for (int ttl : accepted[j]) add_unique(others, ttl);
    }
    std::sort(others.begin(), others.end());
    analysis.flows.push_back(judge_flow(flows[i], others));
  }
  return analysis;
}

CaptureAnalysis analyse_packets(std::span<const CapturedPacket> packets) {
  std::vector<DecodedPacket> decoded;
  decoded.reserve(packets.size());
  std::size_t undecoded = 0;
  for (const auto& p : packets) {
    auto d = decode_packet(p.link, p.data, p.timestamp);
    if (d) {
      decoded.push_back(*d);
    } else {
      ++undecoded;
    }
  }
  auto analysis = analyse_decoded(decoded);
  analysis.packets = packets.size();
  analysis.undecoded = undecoded;
  return analysis;
}

std::size_t attach_evidence(std::vector<core::ProbeResult>& results,
                            const CaptureAnalysis& analysis) {
  std::size_t attached = 0;
  for (auto& result : results) {
    if (result.status == core::Status::pass || result.status == core::Status::skip) continue;
    std::set<Endpoint> servers;
    std::uint16_t port = 0;
    if (auto target = core::parse_target(result.target, std::nullopt, false)) {
      port = target->port;
      if (auto ip = IpAddress::parse(target->host); ip && port != 0) {
        servers.insert(Endpoint{*ip, port});
      }
    }
    endpoints_from_fact(result, "connected_to", port, servers);
    endpoints_from_fact(result, "addresses", port, servers);
    for (const auto& f : result.facts) {
      if (f.key.starts_with(kConnectFactPrefix)) {
        if (auto e = Endpoint::parse(std::string_view(f.key).substr(kConnectFactPrefix.size()))) {
          servers.insert(*e);
        }
      }
    }
    if (result.kind == "dns") endpoints_from_fact(result, "server", kDnsPort, servers);
    std::set<Endpoint> locals;
    endpoints_from_fact(result, "local_endpoint", 0, locals);
    if (servers.empty()) continue;

    std::vector<const FlowEvidence*> matched;
    for (const auto& flow : analysis.flows) {
      if (!servers.contains(flow.flow.server)) continue;
      if (!locals.empty() && !locals.contains(flow.flow.client)) continue;
      if (flow.weight() > 0) matched.push_back(&flow);
    }
    if (matched.empty()) continue;
    // Per server endpoint, its most telling flow (the latest attempt on a tie); the most telling
    // of those gives the facts.
    std::stable_sort(matched.begin(), matched.end(),
                     [](const auto* a, const auto* b) { return a->weight() > b->weight(); });
    std::vector<const FlowEvidence*> per_server;
    for (const auto* f : matched) {
      auto same = std::find_if(per_server.begin(), per_server.end(),
                               [&](const auto* g) { return g->flow.server == f->flow.server; });
      if (same == per_server.end()) {
        per_server.push_back(f);
      } else if ((*same)->weight() == f->weight()) {
        *same = f;
      }
    }
    const FlowEvidence* primary = per_server.front();
    primary->add_facts(result);

    std::string sentence = "Capture: ";
    if (per_server.size() == 1) {
      sentence += primary->summary();
    } else {
      for (std::size_t i = 0; i < per_server.size() && i < kMaxFlowsInSentence; ++i) {
        if (i > 0) sentence += "; ";
        sentence +=
            "to " + per_server[i]->flow.server.to_string() + ": " + per_server[i]->summary();
      }
      if (per_server.size() > kMaxFlowsInSentence) {
        sentence += "; and " + std::to_string(per_server.size() - kMaxFlowsInSentence) + " more";
      }
    }
    const auto same_server = std::count_if(matched.begin(), matched.end(), [&](const auto* f) {
      return f->flow.server == primary->flow.server;
    });
    if (locals.empty() && same_server > 1) {
      sentence += " (" + std::to_string(same_server) +
                  " connections to this address were captured; the most telling is shown)";
    }
    sentence += ".";
    result.set_fact(fact::evidence, sentence);
    if (!result.message.empty()) {
      const char last = result.message.back();
      result.message += (last == '.' || last == '!' || last == '?') ? " " : ". ";
    }
    result.message += sentence;
    ++attached;
  }
  return attached;
}

}  // namespace gwprobe::probes::capture
