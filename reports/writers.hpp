// The six writers behind write_report(), one .cpp each. Internal to reports/: callers use
// report_writer.hpp.
#pragma once

#include <iosfwd>

#include "core/report.hpp"
#include "reports/report_writer.hpp"

namespace gwprobe::reports {

void write_text(const core::RunReport& report, std::ostream& out, const WriteOptions& options);
void write_json(const core::RunReport& report, std::ostream& out, const WriteOptions& options);
void write_junit(const core::RunReport& report, std::ostream& out);
void write_markdown(const core::RunReport& report, std::ostream& out);
void write_html(const core::RunReport& report, std::ostream& out);
void write_prometheus(const core::RunReport& report, std::ostream& out);

}  // namespace gwprobe::reports
