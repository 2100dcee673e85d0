// Live progress on stderr for runs longer than ~2 s (TTY only): "checking 37/120 ... 12 s".
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include "core/cancel.hpp"
#include "core/probe_result.hpp"
#include "probes/idle/idle_options.hpp"

namespace gwprobe::cli {

class Progress {
 public:
  /// Draws nothing unless `enabled` (stderr is a TTY and the user did not ask for quiet).
  Progress(bool enabled, std::size_t total);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();  ///< erases the line

  /// Runner callback (serialized by the runner).
  void on_result(const core::ProbeResult& result, std::size_t done);
  /// An idle check's ladder (from its probe's thread): shown as a countdown on the same line.
  void on_idle(const std::string& check_id, const probes::idle::IdleProgress& progress);

 private:
  void tick();
  void draw();
  bool enabled_;
  std::size_t total_;
  std::atomic<std::size_t> done_{0};
  std::mutex mutex_;
  std::string last_;
  std::string idle_;  ///< the countdown text of the idle check(s) running
  core::CancelToken stop_;
  std::thread ticker_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace gwprobe::cli
