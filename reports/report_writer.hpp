// The report writers: one RunReport in, one document out, in any of six formats.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "core/report.hpp"
#include "core/result.hpp"
#include "reports/atomic_file.hpp"

namespace gwprobe::reports {

/// The formats `--format` accepts. The enumerator names are the flag values.
enum class ReportFormat { text, json, junit, markdown, html, prometheus };

std::string_view to_string(ReportFormat format) noexcept;
/// Every format, in declaration order.
std::span<const ReportFormat> all_report_formats() noexcept;

/// Parses a --format value (case-sensitive, as the flag documents). The error lists the valid
/// names.
core::Result<ReportFormat> parse_report_format(std::string_view name);

struct WriteOptions {
  bool color = false;    ///< text only: ANSI colours (the caller decides: TTY and NO_COLOR)
  bool verbose = false;  ///< text only: show passing checks' messages, phases and facts
  bool compact = false;  ///< json only: one line (for JSON-lines history files)
};

/// Writes the report in the format. Never throws on any content of `report` (hostile strings
/// are escaped for the format); stream errors are left in the stream's state for the caller.
void write_report(ReportFormat format, const core::RunReport& report, std::ostream& out,
                  const WriteOptions& options = {});

/// The same, into a string.
std::string render_report(ReportFormat format, const core::RunReport& report,
                          const WriteOptions& options = {});

/// The usual file extension for the format, without the dot ("txt", "json", "xml", "md",
/// "html", "prom").
std::string_view file_extension(ReportFormat format) noexcept;

}  // namespace gwprobe::reports
