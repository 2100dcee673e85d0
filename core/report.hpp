// RunReport and Finding: a whole run's outcome, the input of every report writer.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/probe_result.hpp"

namespace gwprobe::core {

enum class Verdict { ready, degraded, not_ready };
std::string_view to_string(Verdict v) noexcept;

/// A conclusion drawn from one or more results: one line of "what broke where", the advice, and
/// the checks that support it. Built by rules::diagnose (pure), printed by every writer.
struct Finding {
  Diagnosis diagnosis = Diagnosis::ok;
  Status severity = Status::fail;  ///< fail, warn or error
  std::string summary;             ///< "TCP 9350-9354 to *.servicebus.windows.net filtered"
  std::string advice;
  std::vector<std::string> result_ids;
};

struct Counts {
  int pass = 0, warn = 0, fail = 0, skip = 0, error = 0;
  int total() const { return pass + warn + fail + skip + error; }
};

/// A context line for the report header: "proxy: http://proxy:3128 (from HTTPS_PROXY)".
struct Note {
  std::string key;
  std::string value;
};

struct RunReport {
  static constexpr std::string_view schema = "gwprobe.report/v1";
  /// The profile name of a `gwprobe probe` run, which has no profile.
  static constexpr std::string_view single_probe = "single probe";
  std::string tool_version;
  std::string profile;         ///< profile name
  std::string profile_source;  ///< "embedded" or a file path
  std::chrono::system_clock::time_point started_at{};
  std::chrono::microseconds duration{0};
  Verdict verdict = Verdict::not_ready;
  Counts counts;
  bool interrupted = false;  ///< Ctrl-C or the overall deadline cut the run short
  std::vector<Note> notes;
  std::vector<ProbeResult> results;  ///< in plan order
  std::vector<Finding> findings;
};

/// Counts by status.
Counts count_results(const std::vector<ProbeResult>& results);

}  // namespace gwprobe::core
