// `gwprobe check`: the readiness check of a whole profile.
#include <memory>

#include "cli/check_run.hpp"
#include "cli/command.hpp"
#include "cli/interrupt.hpp"
#include "cli/output.hpp"
#include "cli/profile_settings.hpp"
#include "cli/progress.hpp"
#include "cli/proxy_flags.hpp"
#include "cli/terminal.hpp"
#include "core/duration.hpp"
#include "core/target.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::cli {
namespace {

struct CheckOptions {
  std::string profile = "local";
  OutputOptions output;
  std::vector<std::string> only;
  std::string timeout;
  std::string deadline;
  std::vector<std::string> probe_hosts;
  std::vector<std::string> resolvers;
  std::size_t parallel = 128;
  bool strict = false;
  bool quiet = false;
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts_file = "/etc/hosts";
  std::uint16_t dns_port = 0;
  CaptureSettings capture;
  ProxyFlags proxy;
  bool with_idle = false;
  std::string idle_required;
};

int run(const CheckOptions& options) {
  validate_output(options.output);
  validate_capture(options.capture);
  auto profile = rules::load_profile(options.profile);
  if (!profile) usage_error(profile.error().describe());
  for (const auto& assignment : options.probe_hosts) {
    auto applied = rules::override_probe_host(*profile, assignment);
    if (!applied) usage_error(applied.error().message);
  }

  CheckRunSettings settings;
  for (const auto& kind : split_commas(options.only)) settings.plan.only_kinds.insert(kind);
  if (!options.timeout.empty()) {
    auto timeout = core::parse_duration(options.timeout);
    if (!timeout) usage_error("--timeout: " + timeout.error().message);
    if (timeout->count() == 0) usage_error("--timeout: must be more than 0");
    settings.plan.timeout = *timeout;
  }
  if (!options.deadline.empty()) {
    auto deadline = core::parse_duration(options.deadline);
    if (!deadline) usage_error("--deadline: " + deadline.error().message);
    settings.overall_timeout = *deadline;
  }
  for (const auto& resolver : options.resolvers) {
    auto parsed = probes::parse_dns_server(resolver);
    if (!parsed) usage_error("--resolver: " + parsed.error().message);
    settings.plan.extra_resolvers.push_back(resolver);
  }
  settings.plan.resolver.resolv_conf = options.resolv_conf;
  settings.plan.resolver.hosts_file = options.hosts_file;
  settings.plan.resolver.port = options.dns_port;
  if (options.parallel == 0) usage_error("--parallel: must be at least 1");
  settings.parallelism = options.parallel;
  settings.strict = options.strict;
  settings.capture = options.capture;
  settings.notes.push_back({"profile", profile->name + " (" + profile->source + ")"});
  apply_profile_settings(*profile, options.proxy, settings.plan, settings.notes);
  settings.plan.with_idle = options.with_idle;
  if (!options.idle_required.empty()) {
    auto required = core::parse_duration(options.idle_required);
    if (!required) usage_error("--idle-required: " + required.error().message);
    if (required->count() == 0) usage_error("--idle-required: must be more than 0");
    settings.plan.idle_required = std::chrono::ceil<std::chrono::seconds>(*required);
    profile->idle.required = *settings.plan.idle_required;  // the advice quotes it too
  }

  std::unique_ptr<Progress> progress;
  settings.on_plan = [&](std::size_t total) {
    progress = std::make_unique<Progress>(!options.quiet && is_terminal(stderr), total);
  };
  settings.on_result = [&](const core::ProbeResult& r, std::size_t done, std::size_t) {
    if (progress) progress->on_result(r, done);
  };
  // The idle ladder reports from its probe's thread while the plan runs (progress exists then).
  settings.plan.idle_progress = [&](const std::string& id, const probes::idle::IdleProgress& p) {
    if (progress) progress->on_idle(id, p);
  };
  InterruptScope interrupt(settings.cancel);
  auto report = run_check(*profile, settings);
  progress.reset();
  if (!report) usage_error(report.error().message);
  emit_report(*report, options.output);
  return exit_code_for(*report, options.strict);
}

void setup(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "check", "Run every check of a profile and report readiness (default profile: local)");
  auto options = std::make_shared<CheckOptions>();
  sub->add_option("--profile,-p", options->profile,
                  "Embedded profile name (public, usgov, china, local) or a .toml file")
      ->capture_default_str();
  sub->add_option("--format,-f", options->output.format,
                  "text, json, junit, markdown, html or prometheus")
      ->capture_default_str();
  sub->add_option("--output,-o", options->output.output,
                  "Write the report to FILE (atomically) instead of stdout");
  sub->add_option("--only", options->only, "Run only these kinds (comma-separated: dns,tcp,...)");
  sub->add_option("--timeout", options->timeout, "Per-check timeout (e.g. 5s; profile default)");
  sub->add_option("--deadline", options->deadline, "Stop the whole run after this long");
  sub->add_option("--probe-host", options->probe_hosts,
                  "PATTERN=HOST: probe HOST for a wildcard endpoint (repeatable), e.g. "
                  "'*.servicebus.windows.net=mygw-ns.servicebus.windows.net'");
  sub->add_option("--resolver", options->resolvers,
                  "Reference DNS resolver IP[:PORT] compared with the system's (repeatable)");
  sub->add_option("--parallel", options->parallel, "Checks in flight at once")
      ->capture_default_str();
  sub->add_flag("--strict", options->strict, "Warnings (optional ports) also fail the run");
  sub->add_flag("--verbose,-v", options->output.verbose, "Show facts of every check");
  sub->add_flag("--quiet,-q", options->quiet, "No progress line on stderr");
  sub->add_flag("--with-idle", options->with_idle,
                "Also run the idle-timeout check (takes the profile's [idle] required time plus "
                "a margin, minutes for real profiles); [idle] run = true does the same");
  sub->add_option("--idle-required", options->idle_required,
                  "How long idle connections must survive (default: the profile's [idle] "
                  "required, 300s)");
  add_proxy_flags(*sub, options->proxy);
  const char* capture = "Packet capture (root or CAP_NET_RAW)";
  sub->add_option("--capture", options->capture.file,
                  "Capture the checks' packets to FILE (pcap) and add evidence to failures")
      ->group(capture);
  sub->add_flag("--capture-on-failure", options->capture.only_on_failure,
                "Keep the capture file only when a check failed or warned")
      ->group(capture);
  sub->add_option("--capture-max-mb", options->capture.max_mb, "Size cap of the capture file")
      ->capture_default_str()
      ->group(capture);
  const char* advanced = "Resolver (advanced)";
  sub->add_option("--resolv-conf", options->resolv_conf,
                  "resolv.conf the system resolver is read from")
      ->capture_default_str()
      ->group(advanced);
  sub->add_option("--hosts-file", options->hosts_file,
                  "Hosts file consulted before DNS (\"\" = none)")
      ->capture_default_str()
      ->group(advanced);
  sub->add_option("--dns-port", options->dns_port,
                  "Port of the resolv.conf servers (resolv.conf cannot say; default 53)")
      ->group(advanced);
  sub->callback([options, &action] { action = [options] { return run(*options); }; });
}

const bool registered = register_command({"check", 10, setup});

}  // namespace
}  // namespace gwprobe::cli
