// Runner: a plan of probes run with bounded parallelism, results in plan order.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/probe_result.hpp"
#include "probes/probe.hpp"

namespace gwprobe::probes {

struct RunnerOptions {
  /// Probes in flight at once. Probes mostly wait on the network, so this is high by default:
  /// silent drops are what make a one-at-a-time port test slow.
  std::size_t parallelism = 128;
  /// The whole run stops here; probes still running are cancelled, unstarted ones skipped.
  core::Deadline overall = core::Deadline::never();
  core::CancelToken cancel;
  /// Called once per finished result (any thread, never concurrently), e.g. for progress.
  std::function<void(const core::ProbeResult&, std::size_t done, std::size_t total)> on_result;
  /// Shared per-run host -> addresses cache handed to every probe (may be null).
  AddressCache* addresses = nullptr;
  /// The probe function; empty = run_probe. Tests inject fakes.
  std::function<core::ProbeResult(const ProbeSpec&, const ProbeContext&)> run_one;
};

struct RunOutcome {
  std::vector<core::ProbeResult> results;  ///< one per spec, in plan order
  bool interrupted = false;                ///< cancelled or overall deadline passed
};

/// Runs the plan. Each probe gets deadline = min(now + spec.timeout, overall). A probe whose
/// dependency failed is skipped with that dependency's diagnosis. Returns when every probe has
/// finished or been skipped; after cancel() that is promptly (probes wake on the token).
RunOutcome run_plan(const std::vector<ProbeSpec>& plan, const RunnerOptions& options);

}  // namespace gwprobe::probes
