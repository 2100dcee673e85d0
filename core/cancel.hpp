// CancelToken: Ctrl-C and callers stop work promptly, including threads blocked in poll().
#pragma once

#include <chrono>
#include <memory>

namespace gwprobe::core {

/// A shared cancellation flag. Copies share one state. cancel() is async-signal-safe (an atomic
/// store and a write(2) to an eventfd), so a SIGINT handler may call it. Poll loops add fd() to
/// their poll set: it becomes readable once cancelled and stays readable.
class CancelToken {
 public:
  CancelToken();

  void cancel() const noexcept;
  bool cancelled() const noexcept;

  /// Readable (POLLIN) once cancelled. Valid for the life of any copy of the token.
  int fd() const noexcept;

  /// Sleeps up to `limit`; returns true as soon as the token is cancelled, false on timeout.
  bool wait_for(std::chrono::nanoseconds limit) const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace gwprobe::core
