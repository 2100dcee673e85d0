// Report output shared by commands: --format/--output handling, atomic files, colour decision.
#pragma once

#include <string>

#include "core/report.hpp"

namespace gwprobe::cli {

struct OutputOptions {
  std::string format = "text";
  std::string output;  ///< "" or "-" = stdout
  bool verbose = false;
};

/// Throws CliError(2) when the format name is unknown (checked before any probe runs).
void validate_output(const OutputOptions& options);

/// Renders the report and writes it to stdout or (atomically) to the output file. Colour only
/// for text on a TTY without NO_COLOR. Throws CliError(2) if the file cannot be written.
void emit_report(const core::RunReport& report, const OutputOptions& options);

}  // namespace gwprobe::cli
