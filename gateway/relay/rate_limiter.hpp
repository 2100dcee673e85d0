// Failed-handshake rate limiting per source address, on an injectable clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace gwprobe::gateway::relay {

/// Counts failures per address in a fixed window; an address that reaches `allowed` failures
/// within `window` is blocked for `block`. Tracks at most `max_tracked` addresses (stale ones
/// are dropped first) so a spoofed-source flood cannot grow it without bound.
class AuthFailureLimiter {
 public:
  AuthFailureLimiter(const core::Clock& clock, std::size_t allowed,
                     std::chrono::milliseconds window, std::chrono::milliseconds block,
                     std::size_t max_tracked = 4096);

  bool blocked(const std::string& address);
  void record_failure(const std::string& address);
  std::size_t tracked() const;

 private:
  struct Entry {
    core::Clock::time_point window_start;
    std::size_t failures = 0;
    core::Clock::time_point blocked_until;
  };
  void prune(core::Clock::time_point now);

  const core::Clock& clock_;
  std::size_t allowed_;
  std::chrono::milliseconds window_;
  std::chrono::milliseconds block_;
  std::size_t max_tracked_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gwprobe::gateway::relay
