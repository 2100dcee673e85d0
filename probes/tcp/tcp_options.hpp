// Options of the TCP connect probe.
#pragma once

#include <string_view>

namespace gwprobe::probes::tcp {

enum class AddressFamily { any, ipv4, ipv6 };

/// How the TCP probe connects. The port comes from the Target.
struct TcpOptions {
  static constexpr std::string_view kind = "tcp";

  /// Which resolved addresses to try; all of them are tried in parallel.
  AddressFamily family = AddressFamily::any;
  /// Pass when any address connects (what a client needs). When false, every address must.
  bool any_address_suffices = true;
};

}  // namespace gwprobe::probes::tcp
