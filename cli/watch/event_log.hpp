// The daemon's event log: one JSON object per line (start, state changes, reloads, errors,
// stop), to stdout for journald or to a file for log shippers.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/watch/state_changes.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace gwprobe::cli::watch {

class EventLog {
 public:
  /// "-" = standard output, "" = discard, anything else = a file opened for appending (created
  /// with mode 0644). invalid_input/io when the file cannot be opened.
  static core::Result<std::unique_ptr<EventLog>> open(const std::string& target);

  /// Writes {"time": RFC 3339 UTC, "event": name, ...fields} as one line. Thread-safe; text
  /// that is not valid UTF-8 is replaced, never dropped; a failed write is counted, not thrown.
  void write(std::string_view event, const nlohmann::ordered_json& fields = {});

  /// Reopens the file (after logrotate moved it); a no-op for stdout. Keeps the old file on
  /// failure and says why.
  core::Result<void> reopen();

  /// True when the log goes to standard output (so errors need not be repeated on stderr).
  bool is_stdout() const { return target_ == "-"; }
  std::uint64_t failed_writes() const;

 private:
  explicit EventLog(std::string target) : target_(std::move(target)) {}

  std::string target_;
  mutable std::mutex mutex_;
  core::UniqueFd fd_;  ///< the file; unused for stdout
  std::uint64_t failed_writes_ = 0;
};

/// The state_change event's fields for one change.
nlohmann::ordered_json state_change_fields(const StateChange& change);

}  // namespace gwprobe::cli::watch
