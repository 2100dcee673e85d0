// Report output.
#include "cli/output.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/terminal.hpp"
#include "reports/report_writer.hpp"

namespace gwprobe::cli {

void validate_output(const OutputOptions& options) {
  auto format = reports::parse_report_format(options.format);
  if (!format) usage_error(format.error().message);
}

void emit_report(const core::RunReport& report, const OutputOptions& options) {
  const auto format = reports::parse_report_format(options.format);
  if (!format) usage_error(format.error().message);
  const bool to_stdout = options.output.empty() || options.output == "-";
  reports::WriteOptions write;
  write.verbose = options.verbose;
  write.color = to_stdout && *format == reports::ReportFormat::text && color_enabled(stdout);
  std::ostringstream text;
  reports::write_report(*format, report, text, write);
  if (to_stdout) {
    std::cout << text.str() << std::flush;
    return;
  }
  auto written = reports::write_file_atomically(options.output, text.str());
  if (!written) throw CliError(exit_code::usage, written.error().describe());
}

}  // namespace gwprobe::cli
