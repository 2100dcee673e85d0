// `gwprobe watch`: scheduled checks with Prometheus metrics, history and state-change logs.
#include <cmath>
#include <memory>

#include "cli/command.hpp"
#include "cli/profile_settings.hpp"
#include "cli/proxy_flags.hpp"
#include "cli/watch/watch_daemon.hpp"
#include "core/duration.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::cli {
namespace {

/// The largest --history-max-mb accepted (1 TiB): a typo guard, not a policy.
constexpr double kMaxHistoryMegabytes = 1024.0 * 1024.0;
constexpr double kBytesPerMegabyte = 1024.0 * 1024.0;

struct WatchCommandOptions {
  watch::WatchOptions daemon;
  std::string interval = "60s";
  std::string timeout;
  std::vector<std::string> only;
  std::vector<std::string> resolvers;
  double history_max_mb = 10;
};

int run(WatchCommandOptions options) {
  auto& daemon = options.daemon;
  auto interval = core::parse_duration(options.interval);
  if (!interval) usage_error("--interval: " + interval.error().message);
  daemon.schedule.interval = *interval;
  if (!options.timeout.empty()) {
    auto timeout = core::parse_duration(options.timeout);
    if (!timeout) usage_error("--timeout: " + timeout.error().message);
    if (timeout->count() == 0) usage_error("--timeout: must be more than 0");
    daemon.plan.timeout = *timeout;
  }
  for (const auto& kind : split_commas(options.only)) daemon.plan.only_kinds.insert(kind);
  for (const auto& resolver : options.resolvers) {
    auto parsed = probes::parse_dns_server(resolver);
    if (!parsed) usage_error("--resolver: " + parsed.error().message);
    daemon.plan.extra_resolvers.push_back(resolver);
  }
  if (!(options.history_max_mb > 0 && options.history_max_mb <= kMaxHistoryMegabytes)) {
    usage_error("--history-max-mb: expected a size in MiB above 0 (e.g. 10 or 0.5)");
  }
  daemon.history.max_bytes =
      static_cast<std::uint64_t>(std::ceil(options.history_max_mb * kBytesPerMegabyte));
  return watch::run_watch(daemon);
}

void setup(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "watch",
      "Run a profile's checks on a schedule; serve /metrics, /probe, /healthz and /report");
  auto options = std::make_shared<WatchCommandOptions>();
  auto& d = options->daemon;
  sub->add_option("--profile,-p", d.profile,
                  "Embedded profile name (public, usgov, china, local) or a .toml file; "
                  "re-read on SIGHUP")
      ->capture_default_str();
  sub->add_option("--interval,-i", options->interval, "Time between runs (e.g. 30s, 5m)")
      ->capture_default_str();
  sub->add_option("--jitter", d.schedule.jitter,
                  "Spread each interval by up to this fraction either way (0 to 0.5)")
      ->capture_default_str();
  sub->add_option("--listen,-l", d.http.listen,
                  "Serve HTTP on IP:PORT ([::1]:PORT for IPv6; :PORT = every interface)")
      ->capture_default_str();
  sub->add_option("--history", d.history.path,
                  "Append each run as one JSON line to FILE (rotated by size)");
  sub->add_option("--history-max-mb", options->history_max_mb,
                  "Rotate the history file before it grows past this many MiB")
      ->capture_default_str();
  sub->add_option("--history-keep", d.history.keep, "Rotated history files kept (FILE.1 ...)")
      ->capture_default_str();
  sub->add_option("--state-log", d.state_log,
                  "Write events (state changes, reloads) as JSON lines to FILE, or - for stdout")
      ->capture_default_str();
  sub->add_option("--probe-concurrency", d.probe_concurrency,
                  "On-demand /probe checks at once; more get 503")
      ->capture_default_str();
  sub->add_option("--only", options->only, "Run only these kinds (comma-separated: dns,tcp,...)");
  sub->add_option("--timeout", options->timeout, "Per-check timeout (e.g. 5s; profile default)");
  sub->add_option("--probe-host", d.probe_hosts,
                  "PATTERN=HOST: probe HOST for a wildcard endpoint (repeatable)");
  sub->add_option("--resolver", options->resolvers,
                  "Reference DNS resolver IP[:PORT] compared with the system's (repeatable)");
  sub->add_option("--parallel", d.parallelism, "Checks in flight at once")->capture_default_str();
  sub->add_flag("--strict", d.strict, "Warnings (optional ports) also make the verdict not_ready");
  add_proxy_flags(*sub, d.proxy);
  const char* advanced = "Resolver (advanced)";
  sub->add_option("--resolv-conf", d.plan.resolver.resolv_conf,
                  "resolv.conf the system resolver is read from")
      ->capture_default_str()
      ->group(advanced);
  sub->add_option("--hosts-file", d.plan.resolver.hosts_file,
                  "Hosts file consulted before DNS (\"\" = none)")
      ->capture_default_str()
      ->group(advanced);
  sub->add_option("--dns-port", d.plan.resolver.port,
                  "Port of the resolv.conf servers (resolv.conf cannot say; default 53)")
      ->group(advanced);
  sub->callback([options, &action] { action = [options] { return run(*options); }; });
}

const bool registered = register_command({"watch", 30, setup});

}  // namespace
}  // namespace gwprobe::cli
