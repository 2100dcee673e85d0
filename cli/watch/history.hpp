// The run history: one JSON line per run appended to a file that rotates by size
// (FILE, FILE.1 ... FILE.N, oldest last), so disk use stays bounded however long watch runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::cli::watch {

struct HistorySettings {
  std::string path;                     ///< "" = no history
  std::uint64_t max_bytes = 10u << 20;  ///< rotate before the file would grow past this
  int keep = 5;                         ///< rotated files kept: FILE.1 ... FILE.keep
};

/// The largest --history-keep accepted (more files would not make the cap meaningful).
inline constexpr int kMaxHistoryFiles = 100;

class HistoryFile {
 public:
  explicit HistoryFile(HistorySettings settings) : settings_(std::move(settings)) {}

  /// invalid_input for a bad size or count; io when the file cannot be opened for appending
  /// (checked at start-up, so a typo fails at once rather than at the first run).
  core::Result<void> check() const;

  /// Appends `line` (without its newline). Rotates first when the file is not empty and the
  /// line would take it past max_bytes; a line longer than the cap gets a file of its own.
  /// The file is opened per append, so a file moved away by hand is simply created again.
  core::Result<void> append(std::string_view line);

  const HistorySettings& settings() const { return settings_; }

 private:
  core::Result<void> rotate();

  HistorySettings settings_;
};

}  // namespace gwprobe::cli::watch
