// BPF filter text. Every address comes from IpAddress::to_string(), so nothing a user typed
// reaches the filter compiler unparsed.
#include "probes/capture/capture_filter.hpp"

#include <map>
#include <set>
#include <vector>

namespace gwprobe::probes::capture {

namespace {

constexpr std::string_view kIcmpErrors =
    "(icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-sourcequench or "
    "icmp[icmptype] == icmp-timxceed or icmp[icmptype] == icmp-paramprob))";
// ICMPv6 error types are 1-4 (destination unreachable, packet too big, time exceeded,
// parameter problem); libpcap reads the type only when no extension header precedes ICMPv6.
constexpr std::string_view kIcmp6Errors =
    "(icmp6 and icmp6[icmp6type] >= 1 and icmp6[icmp6type] <= 4)";

std::string ports_clause(const std::set<std::uint16_t>& ports) {
  std::string out;
  for (auto port : ports) {
    if (!out.empty()) out += " or ";
    out += "port " + std::to_string(port);
  }
  return ports.size() > 1 ? "(" + out + ")" : out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

/// "(host A and port P) or (host B and (port P or port Q)) or port R".
std::string endpoints_clause(
    const std::map<IpAddress, std::set<std::uint16_t>, AddressOrder>& by_address,
    const std::set<std::uint16_t>& any_address_ports) {
  std::vector<std::string> parts;
  parts.reserve(by_address.size() + 1);
  for (const auto& [address, ports] : by_address) {
    parts.push_back("(host " + address.to_string() + " and " + ports_clause(ports) + ")");
  }
  if (!any_address_ports.empty()) parts.push_back(ports_clause(any_address_ports));
  return join(parts, " or ");
}

}  // namespace

std::string capture_filter(std::span<const FilterTarget> targets,
                           std::span<const Endpoint> resolvers) {
  std::map<IpAddress, std::set<std::uint16_t>, AddressOrder> tcp_by_address;
  std::set<std::uint16_t> tcp_any_address;
  for (const auto& t : targets) {
    if (t.port == 0) continue;
    if (t.address) {
      tcp_by_address[*t.address].insert(t.port);
    } else {
      tcp_any_address.insert(t.port);
    }
  }
  std::map<IpAddress, std::set<std::uint16_t>, AddressOrder> dns_by_address;
  for (const auto& r : resolvers) {
    if (r.port != 0) dns_by_address[r.address].insert(r.port);
  }
  std::vector<std::string> parts;
  if (!tcp_by_address.empty() || !tcp_any_address.empty()) {
    parts.push_back("(tcp and (" + endpoints_clause(tcp_by_address, tcp_any_address) + "))");
  }
  if (!dns_by_address.empty()) {
    parts.push_back("((udp or tcp) and (" + endpoints_clause(dns_by_address, {}) + "))");
  }
  parts.emplace_back(kIcmpErrors);
  parts.emplace_back(kIcmp6Errors);
  return join(parts, " or ");
}

}  // namespace gwprobe::probes::capture
