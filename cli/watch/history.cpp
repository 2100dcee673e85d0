// Append-and-rotate for the JSON-lines history.
#include "cli/watch/history.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.hpp"

namespace gwprobe::cli::watch {
namespace {

constexpr mode_t kHistoryMode = 0644;

core::Unexpected io_error(const std::string& what, const std::string& path, int err) {
  return core::fail(core::FailureKind::io, what + " " + path + ": " + std::strerror(err));
}

std::string numbered(const std::string& path, int n) {
  return path + "." + std::to_string(n);
}

}  // namespace

core::Result<void> HistoryFile::check() const {
  if (settings_.path.empty()) return {};
  if (settings_.max_bytes == 0) {
    return core::fail(core::FailureKind::invalid_input, "--history-max-mb: must be more than 0");
  }
  if (settings_.keep < 0 || settings_.keep > kMaxHistoryFiles) {
    return core::fail(core::FailureKind::invalid_input,
                      "--history-keep: expected 0 to " + std::to_string(kMaxHistoryFiles));
  }
  core::UniqueFd fd(
      ::open(settings_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kHistoryMode));
  if (!fd) return io_error("--history: cannot open", settings_.path, errno);
  return {};
}

core::Result<void> HistoryFile::rotate() {
  const std::string& path = settings_.path;
  if (settings_.keep == 0) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return io_error("cannot remove", path, errno);
    }
    return {};
  }
  // Oldest first: FILE.keep goes, FILE.(n) becomes FILE.(n+1), FILE becomes FILE.1.
  if (::unlink(numbered(path, settings_.keep).c_str()) != 0 && errno != ENOENT) {
    return io_error("cannot remove", numbered(path, settings_.keep), errno);
  }
  for (int n = settings_.keep - 1; n >= 1; --n) {
    if (::rename(numbered(path, n).c_str(), numbered(path, n + 1).c_str()) != 0 &&
        errno != ENOENT) {
      return io_error("cannot rotate", numbered(path, n), errno);
    }
  }
  if (::rename(path.c_str(), numbered(path, 1).c_str()) != 0 && errno != ENOENT) {
    return io_error("cannot rotate", path, errno);
  }
  return {};
}

core::Result<void> HistoryFile::append(std::string_view line) {
  if (settings_.path.empty()) return {};
  const std::string& path = settings_.path;
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  const auto size = exists ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (size > 0 && size + line.size() + 1 > settings_.max_bytes) {
    if (auto rotated = rotate(); !rotated) return rotated;
  }
  core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kHistoryMode));
  if (!fd) return io_error("cannot open", path, errno);
  struct stat before {};
  const bool sized = ::fstat(fd.get(), &before) == 0;
  std::string data(line);
  data += '\n';
  std::string_view left = data;
  while (!left.empty()) {
    const ssize_t n = ::write(fd.get(), left.data(), left.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      // A half-written line would break every reader of the file: take it back (disk full).
      if (sized) {
        [[maybe_unused]] const int ignored = ::ftruncate(fd.get(), before.st_size);
      }
      return io_error("cannot append to", path, err);
    }
    left.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace gwprobe::cli::watch
