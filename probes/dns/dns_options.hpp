// Options of the DNS probe (light header: no c-ares here, so probe.hpp stays cheap to include).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gwprobe::probes::dns {

/// What the DNS probe asks and whom.
struct DnsOptions {
  static constexpr std::string_view kind = "dns";

  /// Reference resolvers ("ip" or "ip:port" or "[v6]:port") asked besides the system resolver;
  /// their answers are compared with the system's (DNS_MISMATCH when they disagree).
  std::vector<std::string> reference_resolvers;
  /// Ask the system resolver (resolv.conf servers, after the hosts file). Off for a
  /// reference-only probe.
  bool use_system_resolver = true;
  /// resolv.conf to read for the system resolver; tests point it at a file naming a mock server.
  std::string resolv_conf = "/etc/resolv.conf";
  /// Port of the resolv.conf servers (0 = 53): resolv.conf has no port syntax, so tests and labs
  /// that run their resolver on another port say it here.
  std::uint16_t system_resolver_port = 0;
  /// hosts file consulted before DNS, as the system resolver does ("" = do not consult).
  std::string hosts_file = "/etc/hosts";
  /// Private, loopback, link-local, CGNAT and ULA answers are expected (local/lab profiles,
  /// private endpoints) rather than a DNS_PRIVATE_ANSWER failure.
  bool private_answers_expected = false;
  /// Per-attempt timeout and tries inside the probe's deadline (c-ares timeout/tries).
  std::chrono::milliseconds attempt_timeout{1500};
  int tries = 2;
};

}  // namespace gwprobe::probes::dns
