// connect() errno -> diagnosis table.
#include "probes/tcp/tcp_errors.hpp"

#include <cerrno>

namespace gwprobe::probes::tcp {

using core::Diagnosis;

ConnectError from_errno(int error) noexcept {
  switch (error) {
    case 0:
      return {Diagnosis::ok, "OK", "connected"};
    case ECONNREFUSED:
      return {Diagnosis::tcp_refused, "ECONNREFUSED", "TCP reset or ICMP port-unreachable"};
    case ECONNRESET:
      return {Diagnosis::tcp_refused, "ECONNRESET", "reset during the handshake"};
    case ECONNABORTED:
      return {Diagnosis::tcp_refused, "ECONNABORTED", "aborted during the handshake"};
    case EHOSTUNREACH:
      return {Diagnosis::tcp_unreachable, "EHOSTUNREACH",
              "ICMP host-unreachable or administratively prohibited from a router or firewall"};
    case ENETUNREACH:
      return {Diagnosis::tcp_unreachable, "ENETUNREACH", "no route to the network"};
    case EACCES:
      return {Diagnosis::tcp_unreachable, "EACCES",
              "denied on this machine by a firewall rule or security policy"};
    case EPERM:
      return {Diagnosis::tcp_unreachable, "EPERM", "denied on this machine by a firewall rule"};
    case EADDRNOTAVAIL:
      return {Diagnosis::tcp_unreachable, "EADDRNOTAVAIL",
              "no local address of this family to connect from"};
    case EAFNOSUPPORT:
      return {Diagnosis::tcp_unreachable, "EAFNOSUPPORT",
              "this address family is disabled on this machine"};
    case ENETDOWN:
      return {Diagnosis::tcp_unreachable, "ENETDOWN", "the network interface is down"};
    case EHOSTDOWN:
      return {Diagnosis::tcp_unreachable, "EHOSTDOWN", "the host is down"};
    case ETIMEDOUT:
      return {Diagnosis::tcp_filtered, "ETIMEDOUT", "the kernel gave up waiting for an answer"};
    case EMFILE:
    case ENFILE:
      return {Diagnosis::probe_error, "EMFILE", "out of file descriptors on this machine"};
    case ENOBUFS:
    case ENOMEM:
      return {Diagnosis::probe_error, "ENOBUFS", "out of memory or socket buffers"};
    default:
      return {Diagnosis::probe_error, "errno", "unexpected error from connect()"};
  }
}

}  // namespace gwprobe::probes::tcp
