// `gwprobe probe KIND TARGET`: one probe, for troubleshooting, printed as a one-check report.
#include <algorithm>
#include <memory>
#include <vector>

#include "cli/capture_run.hpp"
#include "cli/command.hpp"
#include "cli/interrupt.hpp"
#include "cli/output.hpp"
#include "cli/probe_kind.hpp"
#include "cli/progress.hpp"
#include "cli/terminal.hpp"
#include "core/duration.hpp"
#include "core/version.hpp"
#include "probes/idle/idle_options.hpp"
#include "probes/resolve.hpp"
#include "probes/runner.hpp"
#include "rules/diagnosis.hpp"

namespace gwprobe::cli {
namespace {

std::vector<ProbeKindRegistration>& kinds() {
  static std::vector<ProbeKindRegistration> registry;
  return registry;
}

struct ProbeOptions {
  OutputOptions output;
  std::string timeout = "5s";
  probes::ResolverConfig resolver;
  CaptureSettings capture;
};

int run(const ProbeOptions& options, const SpecBuilder& build) {
  validate_output(options.output);
  validate_capture(options.capture);
  auto timeout = core::parse_duration(options.timeout);
  if (!timeout) usage_error("--timeout: " + timeout.error().message);
  if (timeout->count() == 0) usage_error("--timeout: must be more than 0");
  probes::ProbeSpec spec = build();
  spec.timeout = *timeout;
  if (spec.endpoint.empty()) spec.endpoint = spec.target.to_string();
  if (auto* dns = std::get_if<probes::dns::DnsOptions>(&spec.options)) {
    dns->resolv_conf = options.resolver.resolv_conf;
    dns->hosts_file = options.resolver.hosts_file;
    dns->system_resolver_port = options.resolver.port;
  }
  // The idle ladder takes as long as its longest hold: --timeout is the time to set it up.
  std::unique_ptr<Progress> progress;
  if (auto* idle = std::get_if<probes::idle::IdleOptions>(&spec.options)) {
    spec.timeout = probes::idle::longest_wait(*idle) + 2 * *timeout;
    progress = std::make_unique<Progress>(is_terminal(stderr), 1);
    idle->progress = [bar = progress.get(), id = spec.id](const probes::idle::IdleProgress& p) {
      bar->on_idle(id, p);
    };
  }

  core::RunReport report;
  report.tool_version = core::kVersion;
  report.profile = core::RunReport::single_probe;
  report.started_at = std::chrono::system_clock::now();
  probes::AddressCache addresses{options.resolver};
  probes::RunnerOptions runner;
  runner.parallelism = 1;
  runner.addresses = &addresses;
  const auto start = std::chrono::steady_clock::now();
  InterruptScope interrupt(runner.cancel);
  const std::vector<probes::ProbeSpec> plan = {spec};
  RunCapture capture(options.capture, plan, addresses, core::Deadline::after(spec.timeout),
                     runner.cancel);
  auto outcome = probes::run_plan(plan, runner);
  report.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  report.interrupted = outcome.interrupted;
  report.results = std::move(outcome.results);
  capture.finish(report.results, report.notes);
  // A single probe has no profile: the rules still give advice, findings and the verdict.
  rules::Profile adhoc;
  adhoc.name = core::RunReport::single_probe;
  for (auto& result : report.results) rules::fill_advice(result, adhoc);
  report.findings = rules::diagnose(report.results, adhoc);
  report.verdict = rules::verdict_for(report.results, false);
  report.counts = core::count_results(report.results);
  const auto status = report.results.front().status;
  progress.reset();  // erase the countdown before the report
  emit_report(report, options.output);
  if (report.interrupted) return exit_code::interrupted;
  return status == core::Status::pass || status == core::Status::warn ? exit_code::ready
                                                                      : exit_code::not_ready;
}

}  // namespace

bool register_probe_kind(const ProbeKindRegistration& registration) {
  kinds().push_back(registration);
  return true;
}

namespace {

void setup(CLI::App& root, Action& action) {
  auto* probe = root.add_subcommand("probe", "Run one probe against one target (troubleshooting)");
  probe->require_subcommand(1);
  auto options = std::make_shared<ProbeOptions>();
  auto sorted = kinds();
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& kind : sorted) {
    auto builder = std::make_shared<SpecBuilder>();
    // Each kind is its own subcommand; the common flags are added to each so they may follow
    // the target ("gwprobe probe tcp host:443 --timeout 2s").
    auto* sub = probe->add_subcommand(kind.name, "");
    sub->add_option("--format,-f", options->output.format,
                    "text, json, junit, markdown, html or prometheus")
        ->capture_default_str();
    sub->add_option("--output,-o", options->output.output, "Write the report to FILE");
    sub->add_option("--timeout", options->timeout, "Deadline for the probe")->capture_default_str();
    sub->add_flag("--verbose,-v", options->output.verbose, "Show every fact");
    const char* capture = "Packet capture (root or CAP_NET_RAW)";
    sub->add_option("--capture", options->capture.file,
                    "Capture the probe's packets to FILE (pcap) and add evidence to a failure")
        ->group(capture);
    sub->add_flag("--capture-on-failure", options->capture.only_on_failure,
                  "Keep the capture file only when the probe failed")
        ->group(capture);
    sub->add_option("--capture-max-mb", options->capture.max_mb, "Size cap of the capture file")
        ->capture_default_str()
        ->group(capture);
    const char* advanced = "Resolver (advanced)";
    sub->add_option("--resolv-conf", options->resolver.resolv_conf,
                    "resolv.conf the system resolver is read from")
        ->capture_default_str()
        ->group(advanced);
    sub->add_option("--hosts-file", options->resolver.hosts_file,
                    "Hosts file consulted before DNS (\"\" = none)")
        ->capture_default_str()
        ->group(advanced);
    sub->add_option("--dns-port", options->resolver.port,
                    "Port of the resolv.conf servers (default 53)")
        ->group(advanced);
    kind.setup(*sub, *builder);
    sub->callback([options, builder, &action] {
      action = [options, builder] { return run(*options, *builder); };
    });
  }
}

const bool registered = register_command({"probe", 20, setup});

}  // namespace
}  // namespace gwprobe::cli
