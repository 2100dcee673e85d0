// The gateway agent's load report (`gwprobeLoad`): CPU as the process's CPU time over wall time
// and cores, memory as its resident set over the machine's RAM. The arithmetic and the /proc
// parsing are pure; LoadSampler reads the live values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/deadline.hpp"
#include "core/result.hpp"
#include "gateway/protocol/messages.hpp"

namespace gwprobe::gateway::agent {

/// The process's CPU time (user + system) at a wall-clock instant.
struct CpuSample {
  std::chrono::nanoseconds cpu{0};
  core::SteadyClock::time_point wall{};
};

/// CPU used between two samples as a fraction of all `cores`, clamped to 0..1 (0 when no wall
/// time passed or cores is 0).
double cpu_fraction(const CpuSample& before, const CpuSample& after, unsigned cores);

/// Resident set over total memory, clamped to 0..1 (0 when the total is unknown).
double memory_fraction(std::uint64_t rss_bytes, std::uint64_t total_bytes);

/// "MemTotal:  16318156 kB" from /proc/meminfo text, in bytes. not_found if absent.
core::Result<std::uint64_t> parse_mem_total(std::string_view meminfo);
/// "VmRSS:  10240 kB" from /proc/self/status text, in bytes. not_found if absent.
core::Result<std::uint64_t> parse_vm_rss(std::string_view status);

/// Samples the running process. Not thread-safe: the agent's control loop owns one.
class LoadSampler {
 public:
  LoadSampler();
  /// The load since the previous call (or since construction), ready to send.
  protocol::LoadReportCommand sample();

  static CpuSample read_cpu();

 private:
  CpuSample last_;
  unsigned cores_ = 1;
};

}  // namespace gwprobe::gateway::agent
