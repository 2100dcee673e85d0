// The check pipeline shared by `check` and `watch`: profile -> plan -> runner -> rules -> report.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cli/capture_run.hpp"
#include "cli/plan_builder.hpp"
#include "core/cancel.hpp"
#include "core/report.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli {

struct CheckRunSettings {
  PlanSettings plan;
  std::size_t parallelism = 128;
  std::chrono::milliseconds overall_timeout{0};  ///< 0 = none
  bool strict = false;
  std::vector<core::Note> notes;  ///< extra header notes (proxy, resolvers)
  CaptureSettings capture;        ///< --capture (off when file is empty)
  core::CancelToken cancel;
  std::function<void(const core::ProbeResult&, std::size_t done, std::size_t total)> on_result;
  std::function<void(std::size_t total)> on_plan;  ///< called once the plan size is known
};

/// Runs every check the profile implies and returns the finished report (advice, findings and
/// verdict filled). Errors only for unusable settings (invalid_input).
core::Result<core::RunReport> run_check(const rules::Profile& profile,
                                        const CheckRunSettings& settings);

/// Exit code for a finished report: 0 ready (or degraded without --strict), 1 not ready,
/// 130 interrupted.
int exit_code_for(const core::RunReport& report, bool strict);

}  // namespace gwprobe::cli
