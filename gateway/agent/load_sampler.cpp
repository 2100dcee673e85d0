// LoadSampler: getrusage for CPU time, /proc for resident set and total memory.
#include "gateway/agent/load_sampler.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace gwprobe::gateway::agent {

namespace {

/// The value of a "Key:   123 kB" line, in bytes.
core::Result<std::uint64_t> kib_field(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto line = text.substr(at, end - at);
    at = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') {
      continue;
    }
    auto rest = line.substr(key.size() + 1);
    const auto first = rest.find_first_not_of(" \t");
    if (first == std::string_view::npos) break;
    rest = rest.substr(first);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc{}) break;
    const std::string_view unit(ptr, static_cast<std::size_t>(rest.data() + rest.size() - ptr));
    return unit.find("kB") != std::string_view::npos ? value * 1024 : value;
  }
  return core::fail(core::FailureKind::not_found, std::string(key) + " not found");
}

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

double cpu_fraction(const CpuSample& before, const CpuSample& after, unsigned cores) {
  const auto wall = after.wall - before.wall;
  if (cores == 0 || wall <= core::SteadyClock::duration::zero()) return 0.0;
  const double used = std::chrono::duration<double>(after.cpu - before.cpu).count();
  const double available = std::chrono::duration<double>(wall).count() * cores;
  return std::clamp(used / available, 0.0, 1.0);
}

double memory_fraction(std::uint64_t rss_bytes, std::uint64_t total_bytes) {
  if (total_bytes == 0) return 0.0;
  return std::clamp(static_cast<double>(rss_bytes) / static_cast<double>(total_bytes), 0.0, 1.0);
}

core::Result<std::uint64_t> parse_mem_total(std::string_view meminfo) {
  return kib_field(meminfo, "MemTotal");
}

core::Result<std::uint64_t> parse_vm_rss(std::string_view status) {
  return kib_field(status, "VmRSS");
}

LoadSampler::LoadSampler() : last_(read_cpu()) {
  cores_ = std::max(1u, std::thread::hardware_concurrency());
}

CpuSample LoadSampler::read_cpu() {
  CpuSample s;
  s.wall = core::SteadyClock::now();
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    const auto tv = [](const timeval& t) {
      return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    s.cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
  }
  return s;
}

protocol::LoadReportCommand LoadSampler::sample() {
  const auto now = read_cpu();
  protocol::LoadReportCommand report;
  report.cpu = cpu_fraction(last_, now, cores_);
  last_ = now;
  const auto rss = parse_vm_rss(read_small_file("/proc/self/status"));
  const auto total = parse_mem_total(read_small_file("/proc/meminfo"));
  report.memory = rss && total ? memory_fraction(*rss, *total) : 0.0;
  return report;
}

}  // namespace gwprobe::gateway::agent
