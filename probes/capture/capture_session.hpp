// Packet capture around a run: libpcap on the interfaces the targets route through, a pcap file
// Wireshark opens, and evidence for the results that failed. The API `check` and `probe` use.
//
// Typical use (the CLI's --capture FILE / --capture-on-failure / --capture-max-mb):
//
//   auto request = capture::capture_request_for(plan);   // targets, resolvers from the plan
//   request.file = "run.pcap";                           // --capture FILE
//   request.keep_only_on_failure = on_failure;           // --capture-on-failure
//   request.max_file_bytes = max_mb * 1024 * 1024;       // --capture-max-mb
//   auto session = capture::start_capture(request);
//   if (!session) print_warning_once(session.error().describe());   // the run goes on
//   ... run the plan ...
//   if (session) {
//     if (auto stopped = (*session)->stop(); !stopped) print_warning(stopped.error().describe());
//     capture::attach_evidence(results, **session);
//     auto kept = (*session)->finish(results);         // deletes the file if nothing failed
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/probe_result.hpp"
#include "core/result.hpp"
#include "probes/capture/evidence.hpp"
#include "probes/capture/packet.hpp"
#include "probes/probe.hpp"

namespace gwprobe::probes::capture {

/// A TCP destination the run will connect to.
struct CaptureEndpoint {
  std::string host;  ///< IP literal or DNS name, as in the plan
  std::uint16_t port = 0;
  std::vector<std::string> addresses;  ///< the host's addresses, when resolved before the run
};

inline constexpr std::uint64_t kMiB = std::uint64_t{1024} * 1024;

struct CaptureRequest {
  /// Where the probes connect (targets, and the proxy when one is used). An endpoint whose host
  /// is a name with no `addresses` makes the capture use the "any" interface and filter on its
  /// port alone: resolve names first (the run's AddressCache) to keep the capture narrow.
  std::vector<CaptureEndpoint> endpoints;
  /// DNS servers the probes ask: "ip", "ip:port" or "[v6]:port" (port 53 by default).
  std::vector<std::string> resolvers;
  /// The pcap file to write; empty = capture for evidence only.
  std::filesystem::path file;
  /// --capture-on-failure: finish() deletes the file when every result passed.
  bool keep_only_on_failure = false;
  /// --capture-max-mb: the file stops growing here (what is written stays a valid pcap file).
  std::uint64_t max_file_bytes = 100 * kMiB;
  /// Memory for packets kept for analysis. Past three quarters of it only headers are kept
  /// (resets, FINs and ICMP errors still count); past all of it packets are only written.
  std::uint64_t max_kept_bytes = 32 * kMiB;
  int snaplen = 65535;
  int buffer_bytes = 4 * static_cast<int>(kMiB);
  /// stop() keeps reading until no packet came for `settle`, or `linger` passed: resets and ICMP
  /// errors may arrive just after a probe gave up.
  std::chrono::milliseconds settle{50};
  std::chrono::milliseconds linger{1000};
  /// Interfaces to capture on instead of the ones the routes use (tests; "any" for all).
  std::vector<std::string> interfaces;
};

struct CaptureStats {
  std::uint64_t packets_seen = 0;
  std::uint64_t packets_written = 0;
  std::uint64_t packets_not_written = 0;   ///< after the file reached max_file_bytes
  std::uint64_t packets_kept = 0;          ///< for analysis, whole
  std::uint64_t packets_kept_headers = 0;  ///< for analysis, headers only
  std::uint64_t packets_not_kept = 0;      ///< past max_kept_bytes
  std::uint64_t kernel_drops = 0;          ///< the reader fell behind (known after stop())
  std::int64_t file_bytes = 0;
};

/// A running capture. Create with start_capture(); stop() before reading packets or analysing.
class CaptureSession {
 public:
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;
  /// Stops (errors ignored) when stop() was not called.
  ~CaptureSession();

  /// Interfaces captured on ("lo", "eth0", or "any").
  const std::vector<std::string>& interfaces() const noexcept;
  /// The BPF filter in use.
  const std::string& filter() const noexcept;
  const std::filesystem::path& file() const noexcept;

  /// Reads what is still queued (see CaptureRequest::settle/linger), stops the reader thread,
  /// flushes and closes the file. Idempotent. Fails when writing the file failed or the
  /// reader hit a libpcap error; the packets read until then stay available either way.
  core::Result<void> stop();
  /// Counters; final after stop().
  CaptureStats stats() const;
  /// Packets kept for analysis (empty until stop()).
  std::span<const CapturedPacket> packets() const noexcept;
  /// Analysis of the kept packets (stops the capture first if still running).
  CaptureAnalysis analyse();
  /// Applies --capture-on-failure: deletes the file when keep_only_on_failure is set and no
  /// result failed, warned or errored. Returns whether a file is left on disk.
  core::Result<bool> finish(const std::vector<core::ProbeResult>& results);
  /// One line for the run's notes: "42 packets on lo -> run.pcap (file cap reached)".
  std::string summary() const;

 private:
  struct State;
  explicit CaptureSession(std::unique_ptr<State> state);
  friend core::Result<std::unique_ptr<CaptureSession>> start_capture(const CaptureRequest&);
  std::unique_ptr<State> state_;
};

/// Opens the capture (route lookup per endpoint, immediate-mode libpcap handles, the filter,
/// the file) and starts the reader thread. Errors, to print once as a warning before the run
/// goes on without capture: FailureKind::auth without root / CAP_NET_RAW; io when the file
/// cannot be written; invalid_input when there is nothing to capture; not_found/network when
/// no interface could be opened.
core::Result<std::unique_ptr<CaptureSession>> start_capture(const CaptureRequest& request);

/// attach_evidence (evidence.hpp) over what `session` captured. Call once, after stop().
std::size_t attach_evidence(std::vector<core::ProbeResult>& results, CaptureSession& session);

/// The request a plan implies: every spec's target with a port (IP literals get their address),
/// and the DNS servers its DNS probes ask (reference resolvers, and the nameservers of the
/// resolv.conf they read when they use the system resolver). The caller adds the file, the
/// caps, resolved addresses and the proxy.
CaptureRequest capture_request_for(std::span<const ProbeSpec> plan);

/// The "nameserver" addresses in resolv.conf text.
std::vector<std::string> nameservers_in(std::string_view resolv_conf);

}  // namespace gwprobe::probes::capture
