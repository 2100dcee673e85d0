// Which network interface the route to an address uses, found without sending a packet.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "probes/capture/packet.hpp"

namespace gwprobe::probes::capture {

/// The interface that traffic to `destination` leaves by: a UDP socket connect()ed to it (which
/// sends nothing, only consults the routing table) reveals the source address, and getifaddrs()
/// maps that address to its interface. Destinations that are this host's own addresses and
/// loopback addresses map to the loopback interface, because that is where the kernel carries
/// them. Fails (FailureKind::network) when there is no route.
core::Result<std::string> interface_toward(const IpAddress& destination, std::uint16_t port);

}  // namespace gwprobe::probes::capture
