// Test helpers shared by the data-source tests: a row-collecting sink and a scratch directory.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateway/datasource/datasource.hpp"

namespace gwprobe::gateway::datasource::testing {

/// Keeps what a query sends; fails on the row after `stop_after` rows when that is set.
class CollectingSink : public RowSink {
 public:
  explicit CollectingSink(std::optional<std::size_t> stop_after = std::nullopt)
      : stop_after_(stop_after) {}
  core::Result<void> columns(std::vector<std::string> names) override {
    ++columns_calls;
    column_names = std::move(names);
    return {};
  }
  core::Result<void> row(Row row) override {
    if (stop_after_ && rows.size() >= *stop_after_) {
      return core::fail(core::FailureKind::cancelled, "the client went away");
    }
    rows.push_back(std::move(row));
    return {};
  }

  int columns_calls = 0;
  std::vector<std::string> column_names;
  std::vector<Row> rows;

 private:
  std::optional<std::size_t> stop_after_;
};

/// A fresh directory under the system temp dir, removed with everything in it at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("gwprobe-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace gwprobe::gateway::datasource::testing
