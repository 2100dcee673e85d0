// --capture for `check` and `probe`: a packet capture around the run, evidence on failures.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "core/report.hpp"
#include "probes/probe.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::probes::capture {
class CaptureSession;
}

namespace gwprobe::cli {

struct CaptureSettings {
  std::string file;              ///< --capture FILE ("" = no capture)
  bool only_on_failure = false;  ///< --capture-on-failure
  std::uint64_t max_mb = 100;    ///< --capture-max-mb
};

/// Throws CliError(2) for inconsistent flags (--capture-on-failure without --capture, ...).
void validate_capture(const CaptureSettings& settings);

/// A capture around one run. Starting it never fails the run: without the privilege to capture
/// (root or CAP_NET_RAW) or with an unwritable file, one warning goes to stderr and the run goes
/// on without it.
class RunCapture {
 public:
  /// Starts capturing for `plan` when settings.file is set. Host names are resolved first
  /// (through `addresses`, which the run then reuses) so the capture filter stays narrow.
  RunCapture(const CaptureSettings& settings, std::span<const probes::ProbeSpec> plan,
             probes::AddressCache& addresses, const core::Deadline& resolve_deadline,
             const core::CancelToken& cancel);
  RunCapture(const RunCapture&) = delete;
  RunCapture& operator=(const RunCapture&) = delete;
  ~RunCapture();

  /// Stops, attaches evidence to failing results, applies --capture-on-failure and adds a
  /// "capture" note. Call once, after the run.
  void finish(std::vector<core::ProbeResult>& results, std::vector<core::Note>& notes);

 private:
  std::unique_ptr<probes::capture::CaptureSession> session_;
};

}  // namespace gwprobe::cli
