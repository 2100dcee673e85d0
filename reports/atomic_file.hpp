// Atomic file replacement for --output and node_exporter's textfile collector: a reader sees the
// old file or the new one, never a half-written one.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::reports {

/// Writes `data` to a temporary file in the same directory as `path`, fsyncs it, sets mode 0644,
/// renames it over `path` and fsyncs the directory. On any failure the temporary file is removed,
/// `path` is left as it was, and the error (kind io) names the path and the reason.
core::Result<void> write_file_atomically(const std::string& path, std::string_view data);

}  // namespace gwprobe::reports
