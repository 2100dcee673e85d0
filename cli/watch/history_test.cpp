// History rotation: sizes, order, the number of files kept, and failures reported as values.
#include "cli/watch/history.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::cli::watch {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

std::string line(int n) {
  return R"({"run":)" + std::to_string(n) + R"(,"pad":"0123456789"})";  // 31 bytes + newline
}

TEST(History, AppendsOneLinePerRun) {
  testing::ScratchDir dir;
  HistoryFile history({dir.path() + "/h.jsonl", 1 << 20, 3});
  ASSERT_TRUE(history.check().has_value());
  ASSERT_TRUE(history.append(line(1)).has_value());
  ASSERT_TRUE(history.append(line(2)).has_value());
  EXPECT_EQ(read(dir.path() + "/h.jsonl"), line(1) + "\n" + line(2) + "\n");
}

TEST(History, RotatesBeforeTheCapWouldBeExceededAndKeepsTheNewestFiles) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/h.jsonl";
  const std::uint64_t cap = 3 * (line(1).size() + 1);  // exactly three lines per file
  HistoryFile history({path, cap, 2});
  for (int n = 1; n <= 11; ++n) ASSERT_TRUE(history.append(line(n)).has_value()) << n;
  // 11 lines: 10, 11 in the live file; 7-9 in .1; 4-6 in .2; 1-3 were dropped with .3.
  EXPECT_EQ(read(path), line(10) + "\n" + line(11) + "\n");
  EXPECT_EQ(read(path + ".1"), line(7) + "\n" + line(8) + "\n" + line(9) + "\n");
  EXPECT_EQ(read(path + ".2"), line(4) + "\n" + line(5) + "\n" + line(6) + "\n");
  EXPECT_FALSE(exists(path + ".3"));
  for (const auto& p : {path, path + ".1", path + ".2"}) {
    EXPECT_LE(std::filesystem::file_size(p), cap) << p;
  }
}

TEST(History, KeepZeroStartsAFreshFileWithoutKeepingTheOldOne) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/h.jsonl";
  HistoryFile history({path, line(1).size() + 1, 0});
  ASSERT_TRUE(history.append(line(1)).has_value());
  ASSERT_TRUE(history.append(line(2)).has_value());
  EXPECT_EQ(read(path), line(2) + "\n");
  EXPECT_FALSE(exists(path + ".1"));
}

TEST(History, ALineLongerThanTheCapGetsAFileOfItsOwn) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/h.jsonl";
  HistoryFile history({path, 10, 5});
  ASSERT_TRUE(history.append(line(1)).has_value());
  ASSERT_TRUE(history.append(line(2)).has_value());
  EXPECT_EQ(read(path), line(2) + "\n");
  EXPECT_EQ(read(path + ".1"), line(1) + "\n");
}

TEST(History, AFileMovedAwayIsCreatedAgain) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/h.jsonl";
  HistoryFile history({path, 1 << 20, 1});
  ASSERT_TRUE(history.append(line(1)).has_value());
  std::filesystem::rename(path, dir.path() + "/archived");
  ASSERT_TRUE(history.append(line(2)).has_value());
  EXPECT_EQ(read(path), line(2) + "\n");
}

TEST(History, NewFilesAreReadableByOthers) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/h.jsonl";
  HistoryFile history({path, 1 << 20, 1});
  ASSERT_TRUE(history.append(line(1)).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(History, AMissingDirectoryFailsTheStartUpCheckWithThePath) {
  HistoryFile history({"/nonexistent-gwprobe-dir/h.jsonl", 1 << 20, 1});
  const auto checked = history.check();
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().kind, core::FailureKind::io);
  EXPECT_NE(checked.error().message.find("/nonexistent-gwprobe-dir/h.jsonl"), std::string::npos);
  EXPECT_NE(checked.error().message.find("No such file or directory"), std::string::npos);
  const auto appended = history.append(line(1));
  ASSERT_FALSE(appended.has_value());
  EXPECT_EQ(appended.error().kind, core::FailureKind::io);
}

TEST(History, RejectsAZeroCapAndTooManyFiles) {
  testing::ScratchDir dir;
  EXPECT_FALSE(HistoryFile({dir.path() + "/h", 0, 1}).check().has_value());
  EXPECT_FALSE(HistoryFile({dir.path() + "/h", 100, -1}).check().has_value());
  EXPECT_FALSE(HistoryFile({dir.path() + "/h", 100, kMaxHistoryFiles + 1}).check().has_value());
  EXPECT_TRUE(HistoryFile({"", 0, 0}).check().has_value()) << "no history, nothing to check";
}

}  // namespace
}  // namespace gwprobe::cli::watch
