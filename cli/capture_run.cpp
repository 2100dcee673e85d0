// --capture wiring shared by `check` and `probe`.
#include "cli/capture_run.hpp"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/command.hpp"
#include "core/target.hpp"
#include "probes/capture/capture_session.hpp"

namespace gwprobe::cli {

namespace capture = probes::capture;

void validate_capture(const CaptureSettings& settings) {
  if (settings.file.empty() && settings.only_on_failure) {
    usage_error("--capture-on-failure needs --capture FILE (the file to keep when a check fails)");
  }
  if (settings.max_mb == 0) usage_error("--capture-max-mb: must be at least 1");
}

RunCapture::RunCapture(const CaptureSettings& settings, std::span<const probes::ProbeSpec> plan,
                       probes::AddressCache& addresses, const core::Deadline& resolve_deadline,
                       const core::CancelToken& cancel) {
  if (settings.file.empty()) return;
  auto request = capture::capture_request_for(plan);
  request.file = settings.file;
  request.keep_only_on_failure = settings.only_on_failure;
  request.max_file_bytes = settings.max_mb * capture::kMiB;
  // Resolve names now (the run reuses the cache) so the filter names addresses, not "any".
  for (auto& endpoint : request.endpoints) {
    if (!endpoint.addresses.empty() || core::is_ip_literal(endpoint.host)) continue;
    const auto resolution = addresses.resolve(endpoint.host, resolve_deadline, cancel);
    for (const auto& address : resolution.addresses) {
      endpoint.addresses.push_back(address.to_string());
    }
  }
  // Probes that resolve through the system resolver ask its resolv.conf servers.
  std::ifstream resolv(addresses.config().resolv_conf);
  std::stringstream text;
  text << resolv.rdbuf();
  std::set<std::string> known(request.resolvers.begin(), request.resolvers.end());
  for (const auto& server : capture::nameservers_in(text.str())) {
    const auto port = addresses.config().port;
    const auto entry = port == 0 ? server : core::Target{server, port}.to_string();
    if (known.insert(entry).second) request.resolvers.push_back(entry);
  }
  auto session = capture::start_capture(request);
  if (!session) {
    std::fprintf(stderr, "gwprobe: warning: no packet capture: %s; the run goes on without it\n",
                 session.error().describe().c_str());
    return;
  }
  session_ = std::move(*session);
}

RunCapture::~RunCapture() = default;

void RunCapture::finish(std::vector<core::ProbeResult>& results, std::vector<core::Note>& notes) {
  if (!session_) return;
  if (auto stopped = session_->stop(); !stopped) {
    std::fprintf(stderr, "gwprobe: warning: capture: %s\n", stopped.error().describe().c_str());
  }
  capture::attach_evidence(results, *session_);
  auto kept = session_->finish(results);
  std::string summary = session_->summary();
  if (!kept) {
    summary += " (" + kept.error().describe() + ")";
  } else if (!*kept) {
    summary += " (file removed: nothing failed)";
  }
  notes.push_back({"capture", summary});
  session_.reset();
}

}  // namespace gwprobe::cli
