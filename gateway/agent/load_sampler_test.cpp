// The load report's arithmetic and /proc parsing.
#include "gateway/agent/load_sampler.hpp"

#include <gtest/gtest.h>

namespace gwprobe::gateway::agent {
namespace {

using namespace std::chrono_literals;

CpuSample at(std::chrono::milliseconds cpu, std::chrono::milliseconds wall) {
  return CpuSample{cpu, core::SteadyClock::time_point{} + wall};
}

TEST(LoadSampler, CpuIsCpuTimeOverWallTimeAndCores) {
  EXPECT_DOUBLE_EQ(cpu_fraction(at(0ms, 0ms), at(500ms, 1000ms), 1), 0.5);
  EXPECT_DOUBLE_EQ(cpu_fraction(at(0ms, 0ms), at(1000ms, 1000ms), 4), 0.25);
  EXPECT_DOUBLE_EQ(cpu_fraction(at(100ms, 1000ms), at(400ms, 2000ms), 2), 0.15);
}

TEST(LoadSampler, CpuIsClampedAndSafeWithoutElapsedTime) {
  EXPECT_DOUBLE_EQ(cpu_fraction(at(0ms, 0ms), at(3000ms, 1000ms), 2), 1.0);
  EXPECT_DOUBLE_EQ(cpu_fraction(at(0ms, 5ms), at(10ms, 5ms), 2), 0.0);
  EXPECT_DOUBLE_EQ(cpu_fraction(at(0ms, 0ms), at(10ms, 100ms), 0), 0.0);
  EXPECT_DOUBLE_EQ(cpu_fraction(at(50ms, 0ms), at(10ms, 100ms), 1), 0.0);  // clock went back
}

TEST(LoadSampler, MemoryIsResidentSetOverTotal) {
  EXPECT_DOUBLE_EQ(memory_fraction(256, 1024), 0.25);
  EXPECT_DOUBLE_EQ(memory_fraction(10, 0), 0.0);
  EXPECT_DOUBLE_EQ(memory_fraction(2048, 1024), 1.0);
}

TEST(LoadSampler, ProcFieldsAreReadInBytes) {
  const std::string meminfo =
      "MemFree:         1000 kB\nMemTotal:       16318156 kB\nMemAvailable: 1 kB\n";
  EXPECT_EQ(parse_mem_total(meminfo).value(), 16318156ull * 1024);
  const std::string status = "Name:\tgwprobe\nVmPeak:\t  9999 kB\nVmRSS:\t   10240 kB\n";
  EXPECT_EQ(parse_vm_rss(status).value(), 10240ull * 1024);
}

TEST(LoadSampler, MissingOrGarbledProcFieldsAreNotFound) {
  EXPECT_FALSE(parse_mem_total("MemFree: 1 kB\n").has_value());
  EXPECT_FALSE(parse_vm_rss("VmRSS:\tlots\n").has_value());
  EXPECT_FALSE(parse_vm_rss("VmRSSX: 10 kB\n").has_value());
  EXPECT_FALSE(parse_vm_rss("").has_value());
}

TEST(LoadSampler, TheLiveSampleIsAFractionAndSeesOurMemory) {
  LoadSampler sampler;
  const auto report = sampler.sample();
  EXPECT_GE(report.cpu, 0.0);
  EXPECT_LE(report.cpu, 1.0);
  EXPECT_GT(report.memory, 0.0);  // this test process has a resident set
  EXPECT_LT(report.memory, 1.0);
}

}  // namespace
}  // namespace gwprobe::gateway::agent
