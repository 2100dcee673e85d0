// Route lookup through the kernel's own routing decision (connect() on UDP sends no packet).
#include "probes/capture/interface_route.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/unique_fd.hpp"

namespace gwprobe::probes::capture {

namespace {

struct FreeIfaddrs {
  void operator()(ifaddrs* list) const noexcept { freeifaddrs(list); }
};

}  // namespace

core::Result<std::string> interface_toward(const IpAddress& destination, std::uint16_t port) {
  sockaddr_storage to{};
  socklen_t to_len = 0;
  if (destination.is_v6()) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&to);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(in6->sin6_addr.s6_addr, destination.bytes.data(), 16);
    to_len = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&to);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, destination.bytes.data(), 4);
    to_len = sizeof(sockaddr_in);
  }
  core::UniqueFd sock(::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return core::fail(core::FailureKind::io, "cannot open a socket for the route lookup",
                      std::strerror(errno));
  }
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&to), to_len) != 0) {
    return core::fail(core::FailureKind::network, "no route to " + destination.to_string(),
                      std::strerror(errno));
  }
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return core::fail(core::FailureKind::io, "cannot read the route's source address",
                      std::strerror(errno));
  }
  const auto source = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&local));

  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0) {
    return core::fail(core::FailureKind::io, "cannot list network interfaces",
                      std::strerror(errno));
  }
  const std::unique_ptr<ifaddrs, FreeIfaddrs> list(raw);
  std::string loopback;
  std::string by_source;
  bool destination_is_local = false;
  for (const ifaddrs* i = list.get(); i != nullptr; i = i->ifa_next) {
    if ((i->ifa_flags & IFF_LOOPBACK) != 0 && loopback.empty()) loopback = i->ifa_name;
    const auto address = IpAddress::from_sockaddr(i->ifa_addr);
    if (!address) continue;
    if (*address == destination) destination_is_local = true;
    if (source && *address == *source && by_source.empty()) by_source = i->ifa_name;
  }
  if (destination_is_local && !loopback.empty()) return loopback;
  if (!by_source.empty()) return by_source;
  return core::fail(core::FailureKind::not_found,
                    "no interface holds the source address " +
                        (source ? source->to_string() : std::string("?")) + " of the route to " +
                        destination.to_string());
}

}  // namespace gwprobe::probes::capture
