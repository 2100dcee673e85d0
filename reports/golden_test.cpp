// Golden files: every format rendered from the fixed sample report, compared byte for byte.
// GWPROBE_UPDATE_GOLDEN=1 rewrites them (then review the diff before committing).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "reports/report_writer.hpp"
#include "reports/testdata/sample_report.hpp"

namespace gwprobe::reports {
namespace {

struct Golden {
  const char* file;
  ReportFormat format;
  WriteOptions options;
};

const Golden kGoldens[] = {
    {"sample.txt", ReportFormat::text, {}},
    {"sample.color.txt", ReportFormat::text, {.color = true}},
    {"sample.verbose.txt", ReportFormat::text, {.verbose = true}},
    {"sample.json", ReportFormat::json, {}},
    {"sample.junit.xml", ReportFormat::junit, {}},
    {"sample.md", ReportFormat::markdown, {}},
    {"sample.html", ReportFormat::html, {}},
    {"sample.prom", ReportFormat::prometheus, {}},
};

std::string golden_path(const char* file) {
  return std::string(GWPROBE_SOURCE_DIR) + "/reports/testdata/" + file;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool updating() {
  const char* v = std::getenv("GWPROBE_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

class GoldenFile : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenFile, MatchesTheRenderedSampleReportByteForByte) {
  const Golden& g = GetParam();
  const std::string rendered = render_report(g.format, testdata::sample_report(), g.options);
  const std::string path = golden_path(g.file);
  if (updating()) {
    std::ofstream(path, std::ios::binary) << rendered;
    GTEST_SKIP() << "rewrote " << path;
  }
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing; run with GWPROBE_UPDATE_GOLDEN=1";
  EXPECT_EQ(rendered, expected) << "the " << to_string(g.format) << " output changed; if that is "
                                << "intended, rerun with GWPROBE_UPDATE_GOLDEN=1 and review";
}

INSTANTIATE_TEST_SUITE_P(Formats, GoldenFile, ::testing::ValuesIn(kGoldens),
                         [](const auto& param_info) {
                           std::string name = param_info.param.file;
                           for (auto& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace gwprobe::reports
