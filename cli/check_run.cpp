// The check pipeline.
#include "cli/check_run.hpp"

#include "cli/command.hpp"
#include "core/version.hpp"
#include "probes/resolve.hpp"
#include "probes/runner.hpp"
#include "rules/bgp/bgp_check.hpp"
#include "rules/diagnosis.hpp"

namespace gwprobe::cli {

core::Result<core::RunReport> run_check(const rules::Profile& profile,
                                        const CheckRunSettings& settings) {
  auto plan = build_plan(profile, settings.plan);
  if (!plan) return core::fail(plan.error());

  // ExpressRoute communities need no packets: evaluated up front so that an unreadable or
  // malformed route filter named by the profile is a configuration error before anything runs.
  std::vector<core::ProbeResult> bgp;
  const bool wants_bgp =
      settings.plan.only_kinds.empty() || settings.plan.only_kinds.count("bgp") > 0;
  if (wants_bgp && !profile.bgp.geography.empty() && !profile.bgp.route_filter.empty()) {
    bgp = rules::bgp::evaluate_bgp_files(profile.bgp.geography, profile.bgp.route_filter,
                                         profile.bgp.routes);
    for (const auto& r : bgp) {
      if (r.diagnosis == core::Diagnosis::probe_error) {
        return core::fail(core::FailureKind::invalid_input, "profile [bgp]: " + r.message);
      }
    }
  }
  if (settings.on_plan) settings.on_plan(plan->size());

  core::RunReport report;
  report.tool_version = core::kVersion;
  report.profile = profile.name;
  report.profile_source = profile.source;
  report.started_at = std::chrono::system_clock::now();
  report.notes = settings.notes;
  const auto start = std::chrono::steady_clock::now();

  probes::AddressCache addresses{settings.plan.resolver};
  probes::RunnerOptions options;
  options.parallelism = settings.parallelism;
  options.cancel = settings.cancel;
  options.addresses = &addresses;
  if (settings.overall_timeout.count() > 0) {
    options.overall = core::Deadline::after(settings.overall_timeout);
  }
  options.on_result = settings.on_result;
  RunCapture capture(settings.capture, *plan, addresses,
                     core::Deadline::after(settings.plan.timeout.value_or(profile.timeout)),
                     settings.cancel);
  auto outcome = probes::run_plan(*plan, options);

  report.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  report.interrupted = outcome.interrupted;
  report.results = std::move(outcome.results);
  capture.finish(report.results, report.notes);
  report.results.insert(report.results.end(), bgp.begin(), bgp.end());
  for (auto& result : report.results) rules::fill_advice(result, profile);
  report.findings = rules::diagnose(report.results, profile);
  report.verdict = rules::verdict_for(report.results, settings.strict);
  report.counts = core::count_results(report.results);
  return report;
}

int exit_code_for(const core::RunReport& report, bool strict) {
  if (report.interrupted) return exit_code::interrupted;
  switch (report.verdict) {
    case core::Verdict::ready:
      return exit_code::ready;
    case core::Verdict::degraded:
      return strict ? exit_code::not_ready : exit_code::ready;
    case core::Verdict::not_ready:
      return exit_code::not_ready;
  }
  return exit_code::not_ready;
}

}  // namespace gwprobe::cli
