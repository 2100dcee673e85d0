// Prometheus text exposition format 0.0.4, for node_exporter's textfile collector and for
// `gwprobe watch`'s /metrics. Gauges only (one run's state); samples carry no timestamps, so the
// scraper stamps them. Metric names: README "Report formats".
#include <fmt/format.h>
#include <cmath>
#include <map>
#include <ostream>

#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

/// The label set that identifies a check, unique even if two results share an id (a duplicate
/// series would make the whole scrape invalid, so the second gets "#2").
struct CheckLabels {
  const core::ProbeResult* result;
  std::string labels;  ///< check="…",kind="…",target="…" (escaped)
};

std::vector<CheckLabels> check_labels(const core::RunReport& report) {
  std::vector<CheckLabels> out;
  std::map<std::string, int> seen;
  for (const auto& r : report.results) {
    std::string name = valid_utf8(check_name(r));
    const int n = ++seen[name];
    if (n > 1) name += "#" + std::to_string(n);
    out.push_back({&r, "check=\"" + prometheus_label_value(name) + "\",kind=\"" +
                           prometheus_label_value(r.kind) + "\",target=\"" +
                           prometheus_label_value(r.target) + "\""});
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

double seconds(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

class Exposition {
 public:
  explicit Exposition(std::ostream& out) : out_(out) {}

  /// Starts a family; the HELP and TYPE lines are written with its first sample, so a family
  /// without samples leaves no trace.
  void family(std::string_view name, std::string_view help) {
    name_ = name;
    help_ = help;
    started_ = false;
  }
  void sample(std::string_view labels, double value) {
    if (!started_) {
      out_ << "# HELP " << name_ << ' ' << prometheus_help(help_) << '\n'
           << "# TYPE " << name_ << " gauge\n";
      started_ = true;
    }
    out_ << name_;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << number(value) << '\n';
  }

 private:
  std::ostream& out_;
  std::string name_, help_;
  bool started_ = false;
};

}  // namespace

void write_prometheus(const core::RunReport& report, std::ostream& out) {
  Exposition x(out);
  const auto checks = check_labels(report);

  x.family("gwprobe_run_info", "The run's profile and gwprobe version (always 1).");
  x.sample("profile=\"" + prometheus_label_value(report.profile) + "\",version=\"" +
               prometheus_label_value(report.tool_version) + "\"",
           1);
  x.family("gwprobe_run_verdict",
           "The run's verdict: 1 for the current one of ready, degraded, not_ready.");
  for (const auto v : {core::Verdict::ready, core::Verdict::degraded, core::Verdict::not_ready}) {
    x.sample("verdict=\"" + std::string(core::to_string(v)) + "\"", v == report.verdict ? 1 : 0);
  }
  x.family("gwprobe_run_interrupted",
           "1 when Ctrl-C or the overall deadline cut the run short (results are partial).");
  x.sample("", report.interrupted ? 1 : 0);
  x.family("gwprobe_run_timestamp_seconds", "When the run started, in seconds since the epoch.");
  x.sample("", static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       report.started_at.time_since_epoch())
                                       .count()) /
                   1e3);
  x.family("gwprobe_run_duration_seconds", "Wall time of the run.");
  x.sample("", seconds(report.duration));
  x.family("gwprobe_run_checks", "Checks in the run, by status.");
  const core::Counts c = counts_of(report);
  x.sample("status=\"pass\"", c.pass);
  x.sample("status=\"warn\"", c.warn);
  x.sample("status=\"fail\"", c.fail);
  x.sample("status=\"skip\"", c.skip);
  x.sample("status=\"error\"", c.error);

  x.family("gwprobe_check_success",
           "1 when the check passed; 0 for a failure, a warning, an error or a skip.");
  for (const auto& ch : checks) x.sample(ch.labels, ch.result->status == core::Status::pass);
  x.family("gwprobe_check_required",
           "1 when a failure of the check makes the host not ready; 0 when it only warns.");
  for (const auto& ch : checks) x.sample(ch.labels, ch.result->required ? 1 : 0);
  x.family("gwprobe_check_duration_seconds", "How long the check took.");
  for (const auto& ch : checks) x.sample(ch.labels, seconds(ch.result->duration));
  x.family("gwprobe_phase_seconds",
           "Time spent in one phase of a check (resolve, connect, proxy, tls, upgrade, "
           "first_byte, transfer).");
  for (const auto& ch : checks) {
    std::map<std::string, bool> phase_seen;  // a repeated phase name would duplicate a series
    for (const auto& p : phases_in_order(*ch.result)) {
      const std::string phase = prometheus_label_value(p.name);
      if (phase_seen[phase]) continue;
      phase_seen[phase] = true;
      x.sample(ch.labels + ",phase=\"" + phase + "\"", seconds(p.duration));
    }
  }
  x.family("gwprobe_tls_cert_expiry_timestamp_seconds",
           "Earliest notAfter of the certificate chain the check saw, in seconds since the "
           "epoch.");
  for (const auto& ch : checks) {
    if (const auto v = fact_number(*ch.result, "cert_not_after_unix")) x.sample(ch.labels, *v);
  }
  x.family("gwprobe_idle_cut_seconds",
           "Idle time after which something on the path cut the connection.");
  for (const auto& ch : checks) {
    if (const auto v = fact_number(*ch.result, "idle_cut_seconds")) x.sample(ch.labels, *v);
  }
  x.family("gwprobe_diagnosis_info",
           "The check's diagnosis code (always 1; OK when it passed). See `gwprobe codes`.");
  for (const auto& ch : checks) {
    x.sample(ch.labels + ",code=\"" + std::string(core::to_code(ch.result->diagnosis)) + "\"", 1);
  }
}

}  // namespace gwprobe::reports
