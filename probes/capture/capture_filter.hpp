// The BPF filter of a capture: the probes' own connections, DNS to the resolvers, ICMP errors.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "probes/capture/packet.hpp"

namespace gwprobe::probes::capture {

/// A TCP destination the probes connect to. Without an address (a host name not resolved
/// before the capture started) the filter can only narrow by port.
struct FilterTarget {
  std::optional<IpAddress> address;
  std::uint16_t port = 0;
};

/// A pcap filter expression matching: TCP to/from each target (address and port, or port
/// alone), UDP and TCP to/from each resolver on its port, and every ICMP and ICMPv6 error message
/// (their quoted headers are matched to flows later; routers' addresses are not known in
/// advance). Targets are grouped per address so the expression stays short.
std::string capture_filter(std::span<const FilterTarget> targets,
                           std::span<const Endpoint> resolvers);

}  // namespace gwprobe::probes::capture
