// When the gateway agent dials its relay again after losing it: capped exponential backoff
// with full jitter, reset once a connection has stayed up. Pure (time and randomness are given).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/deadline.hpp"

namespace gwprobe::gateway::agent {

class ReconnectSchedule {
 public:
  /// Returns a uniform value in [0, 1).
  using Random = std::function<double()>;

  struct Settings {
    std::chrono::milliseconds base{250};
    std::chrono::milliseconds cap{5000};
    /// A connection that stayed up at least this long resets the backoff.
    std::chrono::milliseconds stable_after{10000};
  };

  /// `random` empty: a std::mt19937_64 seeded from std::random_device.
  explicit ReconnectSchedule(Random random = {});
  ReconnectSchedule(Settings settings, Random random);

  /// The wait before the next attempt after a failed (or lost) one: full jitter, i.e.
  /// random * min(cap, base * 2^failures), then one more failure counted. Never above the cap.
  std::chrono::milliseconds next_delay();
  /// The wait after the relay refused our credentials (401/403): the cap itself, since only a
  /// fix on the relay's side (or ours) can help and hammering it gets us rate-limited.
  std::chrono::milliseconds auth_refused_delay();

  /// A connection came up at `at`.
  void connected(core::SteadyClock::time_point at);
  /// It went down at `at`: the backoff starts over if it had stayed up for stable_after.
  void disconnected(core::SteadyClock::time_point at);

  /// The current ceiling min(cap, base * 2^failures) (what next_delay draws below).
  std::chrono::milliseconds ceiling() const;
  unsigned failures() const { return failures_; }
  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
  Random random_;
  unsigned failures_ = 0;
  core::SteadyClock::time_point up_since_{};
  bool up_ = false;
};

}  // namespace gwprobe::gateway::agent
