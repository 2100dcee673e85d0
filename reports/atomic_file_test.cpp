// write_file_atomically: content, mode, replacement, and clean failures.
#include "reports/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "reports/testdata/test_support.hpp"

namespace gwprobe::reports {
namespace {

using testdata::read_file;
using testdata::TempDir;

std::size_t entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

/// Sets the umask for one test and restores it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(WriteFileAtomically, WritesTheDataWithMode0644WhateverTheUmask) {
  TempDir dir;
  const ScopedUmask strict(077);
  const std::string path = dir.file("gwprobe.prom");
  ASSERT_TRUE(write_file_atomically(path, "metric 1\n"));
  EXPECT_EQ(read_file(path), "metric 1\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(WriteFileAtomically, ReplacesAnExistingFileAndLeavesNoTemporaryFileBehind) {
  TempDir dir;
  const std::string path = dir.file("report.json");
  ASSERT_TRUE(write_file_atomically(path, "old"));
  ASSERT_TRUE(write_file_atomically(path, "new and longer"));
  EXPECT_EQ(read_file(path), "new and longer");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(WriteFileAtomically, WritesAnEmptyFile) {
  TempDir dir;
  const std::string path = dir.file("empty.txt");
  ASSERT_TRUE(write_file_atomically(path, ""));
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(WriteFileAtomically, FailsWithThePathAndReasonWhenTheDirectoryIsMissing) {
  TempDir dir;
  const std::string path = dir.file("missing/report.txt");
  const auto result = write_file_atomically(path, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::FailureKind::io);
  EXPECT_NE(result.error().message.find(path), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("No such file or directory"), std::string::npos)
      << result.error().message;
}

TEST(WriteFileAtomically, RefusesAPathThatEndsInASlash) {
  TempDir dir;
  const auto result = write_file_atomically(dir.path().string() + "/", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(entries(dir.path()), 0u);
}

TEST(WriteFileAtomically, LeavesTheTargetAndNoTemporaryFileWhenTheRenameFails) {
  TempDir dir;
  const std::string path = dir.file("occupied");
  std::filesystem::create_directory(path);  // rename cannot replace a directory with a file
  testdata::write_file(path + "/keep", "kept");
  const auto result = write_file_atomically(path, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::FailureKind::io);
  EXPECT_NE(result.error().message.find("rename failed"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(read_file(path + "/keep"), "kept");
  EXPECT_EQ(entries(dir.path()), 1u);
}

}  // namespace
}  // namespace gwprobe::reports
