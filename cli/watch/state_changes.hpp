// State changes between two runs of `watch`: which checks went from pass to fail (or back), or
// failed differently. Pure, so the rules are table-tested without a daemon.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/report.hpp"

namespace gwprobe::cli::watch {

struct StateChange {
  std::string check;  ///< the check id
  std::string kind;
  std::string target;
  bool required = true;
  std::optional<core::Status> from;  ///< nullopt: first time this check ran
  std::optional<core::Diagnosis> from_code;
  core::Status to = core::Status::pass;
  core::Diagnosis to_code = core::Diagnosis::ok;
  std::string message;  ///< the new result's message
};

/// The changes from `previous` (null before the first run) to `current`, in `current`'s order.
/// A check changes when its status or its diagnosis code differs from the previous run's
/// result with the same id. A check seen for the first time is reported only when it does not
/// pass: a daemon that starts healthy logs nothing.
std::vector<StateChange> state_changes(const core::RunReport* previous,
                                       const core::RunReport& current);

}  // namespace gwprobe::cli::watch
