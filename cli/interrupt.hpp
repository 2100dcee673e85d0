// Ctrl-C and SIGTERM cancel the run (the partial report is still printed); a second Ctrl-C kills.
#pragma once

#include "core/cancel.hpp"

namespace gwprobe::cli {

/// While alive, SIGINT and SIGTERM call token.cancel() (async-signal-safe). The handler resets
/// itself, so a second Ctrl-C terminates at once. Restores the previous handlers on destruction.
class InterruptScope {
 public:
  explicit InterruptScope(const core::CancelToken& token);
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  ~InterruptScope();
};

}  // namespace gwprobe::cli
