// This process's own resource use, read from /proc/self: the standard process_* metrics, and
// what the soak benchmark watches for leaks.
#pragma once

#include <cstdint>

namespace gwprobe::cli::watch {

struct ProcessStats {
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  double cpu_seconds = 0;  ///< user + system
};

/// Reads the figures; a figure that cannot be read stays 0.
ProcessStats read_process_stats();

}  // namespace gwprobe::cli::watch
