// Destinations x ports against a ruleset: addresses from literals, service tags or a resolver;
// one evaluation per address range that the ruleset treats uniformly.
#include "rules/firewall/firewall_check.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/target.hpp"
#include "rules/firewall/iptables_save.hpp"
#include "rules/firewall/nft_json.hpp"

namespace gwprobe::rules::firewall {

namespace {

// A destination like "host:1-65535" would mean 65535 evaluations per address range; no gateway
// endpoint lists more than a handful of ports.
constexpr std::size_t kMaxPortsPerDestination = 1024;
// Lists in facts and messages stay readable; the JSON output of the CLI has them all.
constexpr std::size_t kMaxListedRanges = 16;
// Distinct ways a partly blocked destination is blocked, named in its message.
constexpr std::size_t kMaxListedWays = 3;

std::string bare_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return std::string(host.substr(1, host.size() - 2));
  }
  return std::string(host);
}

bool same_verdict(const Verdict& a, const Verdict& b) {
  return a.kind == b.kind && a.reject_type == b.reject_type && a.describe() == b.describe();
}

std::vector<std::string> listed(const std::vector<IpRange>& ranges) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranges.size() && i < kMaxListedRanges; ++i) {
    out.push_back(ranges[i].to_string());
  }
  if (ranges.size() > kMaxListedRanges) {
    out.push_back(fmt::format("... and {} more", ranges.size() - kMaxListedRanges));
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void resolve_addresses(const FirewallDestination& destination, const FirewallCheckOptions& options,
                       DestinationVerdict& out) {
  const std::string host = bare_host(destination.host);
  if (const auto address = IpAddress::parse(host)) {
    out.addresses = {IpRange::single(*address)};
    out.address_origin = "literal";
    return;
  }
  if (options.service_tags != nullptr) {
    if (auto ranges = ranges_for_host(*options.service_tags, host, options.regions)) {
      out.address_origin = ranges->origin;
      out.addresses = std::move(ranges->ranges);
      if (out.addresses.empty()) {
        out.unresolved_because = fmt::format("{} has no address prefixes for {} ({})",
                                             options.service_tags->source, host, ranges->origin);
      }
      return;
    }
  }
  const std::string name = destination.probe_host.empty() ? host : destination.probe_host;
  // RFC 6761: "localhost" and its subdomains are loopback; no resolver is asked.
  const std::string lower_name = bgp::to_lower(name);
  if (lower_name == "localhost" ||
      (lower_name.size() > 10 && lower_name.substr(lower_name.size() - 10) == ".localhost")) {
    out.addresses = {IpRange::single(*IpAddress::parse("127.0.0.1")),
                     IpRange::single(*IpAddress::parse("::1"))};
    out.address_origin = "localhost (RFC 6761)";
    return;
  }
  if (name.rfind("*.", 0) == 0) {
    out.unresolved_because =
        fmt::format("{} is a wildcard no service tag covers; give a concrete probe host", name);
    return;
  }
  if (!options.resolver) {
    out.unresolved_because = fmt::format(
        "{} is a name and static evaluation needs addresses: give --service-tags for the hosts "
        "they cover, or an IP literal",
        name);
    return;
  }
  auto resolved = options.resolver(name);
  if (!resolved) {
    out.unresolved_because = fmt::format("{} did not resolve: {}", name, resolved.error().message);
    return;
  }
  for (const auto& text : *resolved) {
    if (const auto address = IpAddress::parse(text))
      out.addresses.push_back(IpRange::single(*address));
  }
  out.address_origin = fmt::format("resolved {}", name);
  if (out.addresses.empty()) out.unresolved_because = fmt::format("{} has no addresses", name);
}

PortVerdict evaluate_port(const Ruleset& ruleset, const std::vector<IpRange>& pieces,
                          std::uint16_t port, const FirewallCheckOptions& options) {
  PortVerdict pv;
  pv.port = port;
  for (const auto& piece : pieces) {
    PacketQuery query;
    query.destination = piece.first;
    query.port = port;
    query.path = options.path;
    query.oif = options.oif;
    query.iif = options.iif;
    query.source = options.source;
    query.check_replies = options.check_replies;
    Verdict verdict = evaluate_packet(ruleset, query);
    if (!pv.ranges.empty() && same_verdict(pv.ranges.back().verdict, verdict) &&
        pv.ranges.back().range.last.next() == piece.first) {
      pv.ranges.back().range.last = piece.last;
    } else {
      pv.ranges.push_back(RangeVerdict{piece, std::move(verdict)});
    }
  }
  const RangeVerdict* first_blocked = nullptr;
  const RangeVerdict* first_unknown = nullptr;
  for (const auto& r : pv.ranges) {
    if (r.verdict.kind == VerdictKind::drop || r.verdict.kind == VerdictKind::reject) {
      if (first_blocked == nullptr) first_blocked = &r;
      pv.blocked.push_back(r.range);
    } else if (r.verdict.kind == VerdictKind::unknown) {
      if (first_unknown == nullptr) first_unknown = &r;
      ++pv.unknown_ranges;
    }
  }
  if (first_blocked != nullptr) {
    pv.verdict = first_blocked->verdict;
  } else if (first_unknown != nullptr) {
    pv.verdict = first_unknown->verdict;
  } else if (!pv.ranges.empty()) {
    pv.verdict = pv.ranges.front().verdict;
  }
  return pv;
}

}  // namespace

std::vector<DestinationVerdict> check_firewall(const Ruleset& ruleset,
                                               const std::vector<FirewallDestination>& destinations,
                                               const FirewallCheckOptions& options) {
  std::vector<DestinationVerdict> out;
  for (const auto& destination : destinations) {
    DestinationVerdict dv;
    dv.destination = destination;
    resolve_addresses(destination, options, dv);
    std::vector<IpRange> pieces;
    for (const auto& range : merge_ranges(dv.addresses)) {
      const auto split = split_by_ruleset(ruleset, range);
      pieces.insert(pieces.end(), split.begin(), split.end());
    }
    for (const auto port : destination.ports) {
      if (pieces.empty()) {
        PortVerdict pv;
        pv.port = port;
        pv.verdict.kind = VerdictKind::unknown;
        pv.verdict.unknown_because = dv.unresolved_because;
        dv.ports.push_back(std::move(pv));
        continue;
      }
      dv.ports.push_back(evaluate_port(ruleset, pieces, port, options));
    }
    out.push_back(std::move(dv));
  }
  return out;
}

std::vector<core::ProbeResult> firewall_results(const std::vector<DestinationVerdict>& verdicts) {
  std::vector<core::ProbeResult> results;
  for (const auto& dv : verdicts) {
    const auto& d = dv.destination;
    const std::string host = bare_host(d.host);
    const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    for (const auto& pv : dv.ports) {
      core::ProbeResult r;
      r.id = fmt::format("firewall:{}:{}", host, pv.port);
      r.kind = "firewall";
      r.target = fmt::format("{}:{}", shown_host, pv.port);
      r.endpoint = d.name;
      r.required = d.required;
      const Verdict& v = pv.verdict;
      r.set_fact("verdict", std::string(to_string(v.kind)));
      std::vector<std::string> rules;
      for (const auto& rule : v.decided_by) rules.push_back(rule.describe());
      if (!rules.empty()) {
        r.set_fact("rule", v.kind == VerdictKind::accept ? join(rules, "; ") : rules.front());
      }
      if (!v.reject_type.empty()) r.set_fact("reject_type", v.reject_type);
      if (const auto tcp = expected_tcp_outcome(v); !tcp.empty()) r.set_fact("expected_tcp", tcp);
      if (!dv.addresses.empty()) {
        r.set_fact("addresses", listed(dv.addresses));
        r.set_fact("address_origin", dv.address_origin);
      }
      if (v.on_reply_path) r.set_fact("blocked_path", std::string("replies"));
      if (!v.notes.empty()) r.set_fact("notes", v.notes);
      const std::size_t total = pv.ranges.size();
      switch (v.kind) {
        case VerdictKind::accept:
          r.status = core::Status::pass;
          r.diagnosis = core::Diagnosis::ok;
          r.message = "accepted by " +
                      (rules.empty() ? std::string("no filtering chain") : join(rules, "; then "));
          if (total > 1) r.message += fmt::format(" (all {} address ranges)", total);
          break;
        case VerdictKind::drop:
        case VerdictKind::reject: {
          r.diagnosis = core::Diagnosis::fw_blocks_required;
          r.status = core::status_for(r.diagnosis, d.required);
          const std::string how = v.kind == VerdictKind::drop
                                      ? std::string("dropped")
                                      : fmt::format("rejected ({})", v.reject_type);
          r.message = fmt::format(
              "{}{} by {}", how,
              v.on_reply_path ? " on the way back (the "
                                "replies)"
                              : "",
              v.decided_by.empty() ? std::string("?") : v.decided_by.front().describe());
          if (total > 1) {
            // Partly blocked: name each distinct way the ranges are blocked, with an example.
            std::vector<std::string> ways;
            std::vector<std::string> seen;
            for (const auto& rv : pv.ranges) {
              if (rv.verdict.kind != VerdictKind::drop && rv.verdict.kind != VerdictKind::reject) {
                continue;
              }
              const std::string how_text = rv.verdict.describe();
              if (std::find(seen.begin(), seen.end(), how_text) != seen.end()) continue;
              seen.push_back(how_text);
              if (ways.size() < kMaxListedWays) {
                ways.push_back(fmt::format("{} (e.g. {})", how_text, rv.range.to_string()));
              }
            }
            r.message =
                fmt::format("blocked for {} of {} address ranges: {}{}", pv.blocked.size(), total,
                            join(ways, "; "),
                            seen.size() > ways.size()
                                ? fmt::format("; and {} other ways", seen.size() - ways.size())
                                : std::string());
            r.set_fact("blocked_ranges", listed(pv.blocked));
          }
          r.advice = fmt::format(
              "Let new TCP connections to {} port {} through{}{}; the gateway {} it.", shown_host,
              pv.port, v.decided_by.empty() ? "" : " before " + v.decided_by.front().location,
              v.on_reply_path ? " and accept their replies (ct state established,related)" : "",
              d.required ? "requires" : "uses");
          break;
        }
        case VerdictKind::unknown:
          r.status = core::Status::warn;
          r.diagnosis = core::Diagnosis::fw_verdict_unknown;
          r.message = "unknown because " + v.unknown_because;
          if (total > 1 && pv.unknown_ranges < total) {
            r.message += fmt::format(" (for {} of {} address ranges)", pv.unknown_ranges, total);
          }
          break;
      }
      results.push_back(std::move(r));
    }
  }
  return results;
}

std::vector<core::ProbeResult> evaluate_firewall(
    const Ruleset& ruleset, const std::vector<FirewallDestination>& destinations,
    const FirewallCheckOptions& options) {
  return firewall_results(check_firewall(ruleset, destinations, options));
}

core::Result<Ruleset> load_ruleset(const bgp::SourceText& source) {
  const std::string_view body = bgp::trim(source.text);
  if (!body.empty() && body.front() == '{') return parse_nft_json(source);
  if (looks_like_iptables_save(source.text)) return parse_iptables_save(source);
  return core::fail(core::FailureKind::invalid_input,
                    fmt::format("{}: neither nft JSON (`nft -j list ruleset`) nor iptables-save "
                                "output",
                                bgp::where(source, 0)));
}

core::Result<FirewallDestination> parse_destination(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return core::fail(core::FailureKind::invalid_input,
                      fmt::format("bad destination '{}': {} (expected HOST:PORT[,PORT|-PORT...], "
                                  "e.g. relay.example:443,9350-9354)",
                                  text, why));
  };
  std::size_t colon = std::string_view::npos;
  std::string host;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("unterminated [IPv6]");
    }
    host = std::string(text.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = std::string(text.substr(0, colon));
    if (host.find(':') != std::string::npos) return bad("IPv6 addresses go in brackets");
  }
  if (host.empty()) return bad("no host");
  if (!core::is_ip_literal(host) && !core::is_valid_hostname(host) &&
      !(host.rfind("*.", 0) == 0 && core::is_valid_hostname(host.substr(2)))) {
    return bad("not a host name or IP address");
  }
  FirewallDestination destination;
  destination.name = host;
  destination.host = host;
  std::string_view ports = text.substr(colon + 1);
  while (!ports.empty()) {
    const auto comma = ports.find(',');
    const std::string_view item = ports.substr(0, comma);
    const auto dash = item.find('-');
    auto first = core::parse_port(item.substr(0, dash));
    if (!first) return bad(first.error().message);
    std::uint16_t last = *first;
    if (dash != std::string_view::npos) {
      auto end = core::parse_port(item.substr(dash + 1));
      if (!end) return bad(end.error().message);
      if (*end < *first) return bad("port range ends before it starts");
      last = *end;
    }
    for (unsigned p = *first; p <= last; ++p) {
      destination.ports.push_back(static_cast<std::uint16_t>(p));
      if (destination.ports.size() > kMaxPortsPerDestination) {
        return bad(fmt::format("more than {} ports", kMaxPortsPerDestination));
      }
    }
    if (comma == std::string_view::npos) break;
    ports = ports.substr(comma + 1);
  }
  if (destination.ports.empty()) return bad("no port");
  return destination;
}

}  // namespace gwprobe::rules::firewall
