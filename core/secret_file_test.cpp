// read_secret_file: the first line without its ending, and errors that never quote the content.
#include "core/secret_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace gwprobe::core {
namespace {

class SecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gwprobe-secret-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SecretFile, IsTheFirstLineWithoutItsEndingAndKeepsSpaces) {
  EXPECT_EQ(read_secret_file(write("a", "s3cret\n"), "--key-file")->reveal(), "s3cret");
  EXPECT_EQ(read_secret_file(write("b", "s3cret\r\nsecond line\n"), "x")->reveal(), "s3cret");
  EXPECT_EQ(read_secret_file(write("c", " pass word "), "x")->reveal(), " pass word ");
}

TEST_F(SecretFile, FailsNamingTheFileAndNeverTheContent) {
  const auto empty = read_secret_file(write("empty", "\nhidden-second-line\n"), "--key-file");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, FailureKind::invalid_input);
  EXPECT_NE(empty.error().message.find("--key-file: "), std::string::npos);
  EXPECT_NE(empty.error().message.find("is empty"), std::string::npos);
  EXPECT_EQ(empty.error().message.find("hidden"), std::string::npos);

  const auto missing = read_secret_file((dir_ / "missing").string(), "--proxy-password-file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, FailureKind::not_found);
  EXPECT_EQ(missing.error().message.rfind("--proxy-password-file: cannot read ", 0), 0u);

  const auto directory = read_secret_file(dir_.string(), "x");
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().kind, FailureKind::invalid_input);
  EXPECT_NE(directory.error().message.find("is not a regular file"), std::string::npos);
  const auto device = read_secret_file("/dev/null", "--key-file");
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message,
            "--key-file: /dev/null is not a regular file (a secret file holds one line)");

  const auto large = read_secret_file(write("large", std::string(70 * 1024, 'k')), "x");
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().kind, FailureKind::invalid_input);
  EXPECT_NE(large.error().message.find("larger than 64 KiB"), std::string::npos);
  EXPECT_EQ(large.error().message.find("kkkk"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::core
