// Format names and the dispatch to the writers.
#include "reports/report_writer.hpp"

#include <array>
#include <ostream>
#include <sstream>

#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {
constexpr std::array kFormats = {ReportFormat::text,  ReportFormat::json,
                                 ReportFormat::junit, ReportFormat::markdown,
                                 ReportFormat::html,  ReportFormat::prometheus};
}  // namespace

std::string_view to_string(ReportFormat format) noexcept {
  switch (format) {
    case ReportFormat::text:
      return "text";
    case ReportFormat::json:
      return "json";
    case ReportFormat::junit:
      return "junit";
    case ReportFormat::markdown:
      return "markdown";
    case ReportFormat::html:
      return "html";
    case ReportFormat::prometheus:
      return "prometheus";
  }
  return "text";
}

std::span<const ReportFormat> all_report_formats() noexcept {
  return kFormats;
}

core::Result<ReportFormat> parse_report_format(std::string_view name) {
  std::string valid;
  for (const auto f : kFormats) {
    if (to_string(f) == name) return f;
    if (!valid.empty()) valid += ", ";
    valid += to_string(f);
  }
  std::string shown;
  for (const char c : name) shown += (c >= 0x20 && c < 0x7F) ? c : '?';
  return core::fail(core::FailureKind::invalid_input,
                    "unknown report format '" + shown + "' (expected one of: " + valid + ")");
}

std::string_view file_extension(ReportFormat format) noexcept {
  switch (format) {
    case ReportFormat::text:
      return "txt";
    case ReportFormat::json:
      return "json";
    case ReportFormat::junit:
      return "xml";
    case ReportFormat::markdown:
      return "md";
    case ReportFormat::html:
      return "html";
    case ReportFormat::prometheus:
      return "prom";
  }
  return "txt";
}

void write_report(ReportFormat format, const core::RunReport& report, std::ostream& out,
                  const WriteOptions& options) {
  switch (format) {
    case ReportFormat::text:
      write_text(report, out, options);
      return;
    case ReportFormat::json:
      write_json(report, out, options);
      return;
    case ReportFormat::junit:
      write_junit(report, out);
      return;
    case ReportFormat::markdown:
      write_markdown(report, out);
      return;
    case ReportFormat::html:
      write_html(report, out);
      return;
    case ReportFormat::prometheus:
      write_prometheus(report, out);
      return;
  }
}

std::string render_report(ReportFormat format, const core::RunReport& report,
                          const WriteOptions& options) {
  std::ostringstream out;
  write_report(format, report, out, options);
  return std::move(out).str();
}

}  // namespace gwprobe::reports
