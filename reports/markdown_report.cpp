// Markdown report for support tickets: renders on GitHub and Azure DevOps, and still reads as
// plain text where Markdown is not rendered (ServiceNow). Every report string is escaped.
#include <algorithm>
#include <ostream>
#include <set>

#include "core/duration.hpp"
#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

std::string_view status_badge(core::Status s) {
  switch (s) {
    case core::Status::pass:
      return "✅ pass";
    case core::Status::warn:
      return "⚠️ warn";
    case core::Status::fail:
      return "❌ fail";
    case core::Status::skip:
      return "⏭️ skip";
    case core::Status::error:
      return "❗ error";
  }
  return "❗ error";
}

std::string_view verdict_icon(core::Verdict v) {
  switch (v) {
    case core::Verdict::ready:
      return "✅";
    case core::Verdict::degraded:
      return "⚠️";
    case core::Verdict::not_ready:
      return "❌";
  }
  return "❌";
}

std::string_view severity_icon(core::Status s) {
  return status_badge(s).substr(0, status_badge(s).find(' '));
}

void write_summary(std::ostream& out, const core::RunReport& report) {
  out << "## " << verdict_icon(report.verdict) << " gwprobe: " << verdict_label(report.verdict)
      << "\n\n";
  out << "**" << counts_summary(counts_of(report)) << "** (" << run_size_summary(report) << ")\n\n";
  if (report.interrupted) {
    out << "> **Interrupted:** the run was cut short (Ctrl-C or the overall deadline); the "
           "results are partial.\n\n";
  }
  out << "| | |\n|---|---|\n";
  std::string profile = markdown_code(report.profile, true);
  if (!report.profile_source.empty()) {
    profile += " (" + markdown_text(report.profile_source) + ")";
  }
  out << "| Profile | " << profile << " |\n";
  out << "| Started | " << human_utc(report.started_at) << " |\n";
  out << "| Duration | " << core::format_duration(report.duration) << " |\n";
  out << "| gwprobe | " << markdown_text(report.tool_version) << " |\n";
  for (const auto& n : report.notes) {
    out << "| " << markdown_text(n.key) << " | " << markdown_text(n.value) << " |\n";
  }
  out << '\n';
}

/// Findings, then problems no finding covers, each with its advice.
void write_actions(std::ostream& out, const core::RunReport& report) {
  std::set<std::string> covered;
  for (const auto& f : report.findings) covered.insert(f.result_ids.begin(), f.result_ids.end());
  std::vector<const core::ProbeResult*> loose;
  for (const auto& r : report.results) {
    const bool problem = r.status == core::Status::fail || r.status == core::Status::warn ||
                         r.status == core::Status::error;
    if (problem && !covered.contains(r.id)) loose.push_back(&r);
  }
  if (report.findings.empty() && loose.empty()) return;
  out << "### What to change\n\n";
  for (const auto& f : report.findings) {
    out << "- " << severity_icon(f.severity) << " **" << core::to_code(f.diagnosis)
        << "**: " << markdown_text(f.summary);
    if (!f.advice.empty()) out << "<br>**Advice:** " << markdown_text(f.advice);
    if (!f.result_ids.empty()) {
      out << "<br>Checks:";
      for (const auto& id : f.result_ids) out << ' ' << markdown_code(id, false);
    }
    out << '\n';
  }
  for (const auto* r : loose) {
    out << "- " << severity_icon(r->status) << " **" << core::to_code(r->diagnosis) << "** on "
        << markdown_code(check_name(*r), false) << ": " << markdown_text(r->message);
    if (!r->advice.empty()) out << "<br>**Advice:** " << markdown_text(r->advice);
    out << '\n';
  }
  out << '\n';
}

void write_checks(std::ostream& out, const core::RunReport& report) {
  out << "### Checks\n\n";
  if (report.results.empty()) {
    out << "No checks were run.\n\n";
    return;
  }
  out << "| Status | Endpoint | Check | Target | Result | Time | Message |\n"
         "|---|---|---|---|---|--:|---|\n";
  for (const auto& group : group_by_endpoint(report.results)) {
    bool first = true;
    for (const auto* r : group.results) {
      // The endpoint is named on its first row only, so the groups stand out.
      const std::string endpoint = first ? "**" + markdown_text(group_title(group)) + "**" : "";
      first = false;
      const bool ran = r->status != core::Status::skip || r->duration.count() > 0;
      out << "| " << status_badge(r->status) << " | " << endpoint << " | " << markdown_text(r->kind)
          << " | " << markdown_code(r->target, true) << " | "
          << markdown_code(core::to_code(r->diagnosis), true) << " | "
          << (ran ? core::format_duration(r->duration) : std::string()) << " | "
          << markdown_text(r->message) << " |\n";
    }
  }
  out << '\n';
}

void write_facts(std::ostream& out, const core::RunReport& report) {
  std::size_t rows = 0;
  for (const auto& r : report.results) rows += r.facts.size() + (r.phases.empty() ? 0 : 1);
  if (rows == 0) return;
  // GitHub and Azure DevOps render Markdown inside <details> only after a blank line.
  out << "<details>\n<summary>Facts and timings (" << rows << ")</summary>\n\n";
  out << "| Check | Fact | Value |\n|---|---|---|\n";
  for (const auto& r : report.results) {
    const std::string check = markdown_code(check_name(r), true);
    const auto phases = phases_in_order(r);
    if (!phases.empty()) {
      std::string text;
      for (const auto& p : phases) {
        if (!text.empty()) text += " · ";
        text += p.name + " " + core::format_duration(p.duration);
      }
      out << "| " << check << " | phases | " << markdown_text(text) << " |\n";
    }
    for (const auto& f : r.facts) {
      out << "| " << check << " | " << markdown_text(f.key) << " | "
          << markdown_text(core::to_text(f.value)) << " |\n";
    }
  }
  out << "\n</details>\n";
}

}  // namespace

void write_markdown(const core::RunReport& report, std::ostream& out) {
  write_summary(out, report);
  write_actions(out, report);
  write_checks(out, report);
  write_facts(out, report);
}

}  // namespace gwprobe::reports
