// The TCP probe's one mapping from connect() errno values to diagnoses.
#pragma once

#include <string_view>

#include "core/diagnosis.hpp"

namespace gwprobe::probes::tcp {

/// What a connect() error means.
struct ConnectError {
  core::Diagnosis diagnosis;  ///< ok for 0
  std::string_view name;      ///< "ECONNREFUSED"
  std::string_view meaning;   ///< "TCP reset or ICMP port-unreachable"
};

/// The one place errno values from connect()/SO_ERROR become diagnoses. ECONNREFUSED (RST, and
/// ICMP port-unreachable on Linux) -> TCP_REFUSED; EHOSTUNREACH (ICMP host-unreachable and
/// admin-prohibited both arrive as this on Linux), ENETUNREACH (no route), EACCES/EPERM (local
/// firewall or policy) -> TCP_UNREACHABLE with the distinction in `meaning`; ETIMEDOUT (the
/// kernel gave up on the SYN) -> TCP_FILTERED; local resource errors -> PROBE_ERROR.
ConnectError from_errno(int error) noexcept;

}  // namespace gwprobe::probes::tcp
