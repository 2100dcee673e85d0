// The one-shot for timers and cron: `gwprobe check --format prometheus --output FILE` replaces
// the file atomically, so node_exporter's textfile collector, reading at any moment, sees a
// whole exposition every time and never a temporary file.
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

/// A complete exposition from one run: it parses, and it describes every check the run
/// counted in every per-check family (a file cut at a line boundary would still parse).
std::string incomplete_because(const std::string& text) {
  const auto parsed = parse_exposition(text);
  if (const auto* error = std::get_if<std::string>(&parsed)) return *error;
  const auto& x = std::get<Exposition>(parsed);
  double counted = 0;
  std::size_t success = 0, diagnosis = 0;
  for (const auto& s : x.samples) {
    if (s.name == "gwprobe_run_checks") counted += s.value;
    success += s.name == "gwprobe_check_success";
    diagnosis += s.name == "gwprobe_diagnosis_info";
  }
  if (counted == 0) return "no checks counted";
  if (success != counted || diagnosis != counted) {
    return "truncated: " + std::to_string(diagnosis) + " of " + std::to_string(counted);
  }
  return "";
}

std::vector<std::string> prom_files(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".prom") names.push_back(name);
    }
    ::closedir(d);
  }
  return names;
}

TEST(TextfileOutput, AConcurrentReaderNeverSeesAPartialFileOrATemporaryOne) {
  ScratchDir dir;
  // Two profiles of very different sizes, written in turn: 1 check, then 60.
  const auto small = dir.write("small.toml",
                               "name = \"small\"\ntimeout = \"1s\"\n[[endpoint]]\nname = \"L\"\n"
                               "host = \"127.0.0.1\"\nports = [1]\n");
  const auto large = dir.write("large.toml",
                               "name = \"large\"\ntimeout = \"1s\"\n[[endpoint]]\nname = \"L\"\n"
                               "host = \"127.0.0.1\"\nports = [\"1-60\"]\n");
  const std::string target = dir.path() + "/gwprobe.prom";
  constexpr int kWrites = 24;

  std::atomic<bool> writing{true};
  std::atomic<int> failed_writes{0};
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      const auto r = run_process({gwprobe_binary(), "check", "--profile", i % 2 ? large : small,
                                  "--format", "prometheus", "--output", target, "--quiet"});
      if (r.exit_code != 1) failed_writes.fetch_add(1);  // 1: the refused ports fail the run
    }
    writing = false;
  });

  int reads = 0;
  std::set<std::size_t> sizes;
  std::vector<std::string> problems;
  while (writing) {
    std::ifstream in(target, std::ios::binary);
    if (!in) continue;  // before the first write
    std::stringstream text;
    text << in.rdbuf();
    ++reads;
    sizes.insert(text.str().size());
    if (const auto why = incomplete_because(text.str()); !why.empty()) problems.push_back(why);
    const auto names = prom_files(dir.path());
    if (names != std::vector<std::string>{"gwprobe.prom"}) {
      problems.push_back("the collector would see " + std::to_string(names.size()) + " files");
    }
  }
  writer.join();
  EXPECT_EQ(failed_writes.load(), 0);
  EXPECT_TRUE(problems.empty()) << problems.size() << " bad reads of " << reads
                                << "; first: " << problems.front();
  EXPECT_GE(sizes.size(), 2u) << "the reader should have seen both the small and the large file";
  EXPECT_GT(reads, kWrites) << "the reader should have raced the writer";
  EXPECT_EQ(incomplete_because([&] {
              std::ifstream in(target);
              std::stringstream s;
              s << in.rdbuf();
              return s.str();
            }()),
            "");
}

}  // namespace
}  // namespace gwprobe::testing
