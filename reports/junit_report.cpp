// JUnit XML report for CI (Jenkins junit step, GitLab artifacts:reports:junit): one testsuite per
// endpoint, one testcase per check. Only elements and attributes the common JUnit schema (the one
// Jenkins validates with) allows; warnings pass with system-out so optional ports never fail CI.
#include <ostream>

#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

constexpr int kTimeDecimals = 3;

std::string attr(std::string_view name, std::string_view value) {
  return std::string(" ") + std::string(name) + "=\"" + xml_attribute(value) + "\"";
}

/// The timestamp form the JUnit schema expects: ISO 8601 without zone (the value is UTC).
std::string junit_timestamp(std::chrono::system_clock::time_point when) {
  return rfc3339_utc(when).substr(0, std::string_view("2024-05-14T09:30:00").size());
}

/// Advice, then message and facts: the body of failure/error, or the system-out of other checks.
std::string details(const core::ProbeResult& r, bool with_message) {
  std::string body;
  if (with_message && !r.message.empty()) body += r.message + "\n";
  if (!r.advice.empty()) body += "Advice: " + r.advice + "\n";
  const auto phases = phases_in_order(r);
  if (!phases.empty()) {
    body += "Phases:";
    for (const auto& p : phases) {
      body += " " + p.name + "=" + seconds_text(p.duration, kTimeDecimals) + "s";
    }
    body += "\n";
  }
  if (!r.facts.empty()) {
    body += "Facts:\n";
    for (const auto& f : r.facts) body += "  " + f.key + ": " + core::to_text(f.value) + "\n";
  }
  return body;
}

void write_testcase(std::ostream& out, const core::ProbeResult& r) {
  const std::string code(core::to_code(r.diagnosis));
  out << "    <testcase" << attr("name", check_name(r)) << attr("classname", "gwprobe." + r.kind)
      << attr("time", seconds_text(r.duration, kTimeDecimals));
  switch (r.status) {
    case core::Status::fail:
      out << ">\n      <failure" << attr("type", code) << attr("message", r.message) << ">"
          << xml_text(details(r, false)) << "</failure>\n";
      break;
    case core::Status::error:
      out << ">\n      <error" << attr("type", code) << attr("message", r.message) << ">"
          << xml_text(details(r, false)) << "</error>\n";
      break;
    case core::Status::skip:
      out << ">\n      <skipped" << attr("message", r.message) << "/>\n";
      break;
    case core::Status::warn:
      out << ">\n      <system-out>"
          << xml_text("WARNING " + code +
                      " (optional check, does not fail the run): " + details(r, true))
          << "</system-out>\n";
      break;
    case core::Status::pass: {
      const std::string body = details(r, true);
      if (body.empty()) {
        out << "/>\n";
        return;
      }
      out << ">\n      <system-out>" << xml_text(body) << "</system-out>\n";
      break;
    }
  }
  out << "    </testcase>\n";
}

}  // namespace

void write_junit(const core::RunReport& report, std::ostream& out) {
  const core::Counts total = counts_of(report);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites" << attr("name", "gwprobe " + report.profile)
      << attr("tests", std::to_string(total.total()))
      << attr("failures", std::to_string(total.fail)) << attr("errors", std::to_string(total.error))
      << attr("time", seconds_text(report.duration, kTimeDecimals)) << ">\n";
  int suite_id = 0;
  for (const auto& group : group_by_endpoint(report.results)) {
    const core::Counts c = counts_of(group);
    std::chrono::microseconds time{0};
    for (const auto* r : group.results) time += r->duration;
    out << "  <testsuite" << attr("name", group_title(group))
        << attr("tests", std::to_string(c.total())) << attr("failures", std::to_string(c.fail))
        << attr("errors", std::to_string(c.error)) << attr("skipped", std::to_string(c.skip))
        << attr("time", seconds_text(time, kTimeDecimals))
        << attr("timestamp", junit_timestamp(report.started_at))
        << attr("id", std::to_string(suite_id++)) << attr("package", "gwprobe." + report.profile)
        << ">\n";
    out << "    <properties>\n";
    auto property = [&](std::string_view name, std::string_view value) {
      out << "      <property" << attr("name", name) << attr("value", value) << "/>\n";
    };
    property("gwprobe.version", report.tool_version);
    property("profile", report.profile);
    property("verdict", core::to_string(report.verdict));
    property("started_at", rfc3339_utc(report.started_at));
    property("interrupted", report.interrupted ? "true" : "false");
    for (const auto& n : report.notes) property("note." + n.key, n.value);
    out << "    </properties>\n";
    for (const auto* r : group.results) write_testcase(out, *r);
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace gwprobe::reports
