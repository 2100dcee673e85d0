// Small helpers the reports tests share: a temporary directory, file reading, tool lookup, and a
// report whose every string field is hostile.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "reports/testdata/sample_report.hpp"

namespace gwprobe::reports::testdata {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gwprobe-reports-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

/// The executable's path when it exists and is executable, "" otherwise.
inline std::string find_tool(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

/// The sample report with the hostile message in every string a writer prints: ids, kinds,
/// targets, endpoints, fact keys and values, phase names, notes, findings, profile.
inline core::RunReport hostile_report() {
  core::RunReport report = sample_report();
  const std::string& h = kHostileMessage;
  report.profile = h;
  report.profile_source = h;
  report.tool_version = h;
  report.notes.push_back({h, h});
  core::ProbeResult r = report.results.front();
  r.id = h;
  r.kind = h;
  r.target = h;
  r.endpoint = h;
  r.message = h;
  r.advice = h;
  r.status = core::Status::fail;
  r.diagnosis = core::Diagnosis::tls_untrusted;
  r.set_phase(h, std::chrono::milliseconds(5));
  r.set_fact(h, h);
  r.set_fact("list", std::vector<std::string>{h, h});
  report.results.push_back(r);
  r.status = core::Status::warn;  // same id again: writers must keep ids unique where it matters
  report.results.push_back(r);
  report.findings.push_back({core::Diagnosis::tls_untrusted, core::Status::fail, h, h, {h}});
  report.counts = core::count_results(report.results);
  return report;
}

}  // namespace gwprobe::reports::testdata
