// Atomic replace: temp file beside the target, fsync, chmod 0644, rename, fsync the directory.
#include "reports/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.hpp"

namespace gwprobe::reports {
namespace {

constexpr mode_t kFileMode = 0644;  // world-readable: node_exporter usually runs as another user

/// Removes the temporary file unless the rename consumed it.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

core::Unexpected io_error(const std::string& what, const std::string& path, int err) {
  return core::fail(core::FailureKind::io,
                    "cannot write " + path + ": " + what + " (" + std::strerror(err) + ")");
}

}  // namespace

core::Result<void> write_file_atomically(const std::string& path, std::string_view data) {
  if (path.empty()) return core::fail(core::FailureKind::invalid_input, "output path is empty");
  const auto slash = path.rfind('/');
  const std::string dir_prefix = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return core::fail(core::FailureKind::invalid_input,
                      "cannot write " + path + ": the path names a directory, not a file");
  }
  // A leading dot keeps collectors that read "*.prom" away from the half-written file.
  std::string temp_path = dir_prefix + "." + base + ".XXXXXX";
  core::UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
  if (!fd) return io_error("cannot create a temporary file beside it", path, errno);
  TempFileGuard guard(temp_path);

  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed", path, errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), kFileMode) != 0) return io_error("chmod failed", path, errno);
  if (::fsync(fd.get()) != 0) return io_error("fsync failed", path, errno);
  if (::close(fd.release()) != 0) return io_error("close failed", path, errno);
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return io_error("rename failed", path, errno);
  }
  guard.release();

  // Make the rename itself durable. Some file systems refuse fsync on a directory (EINVAL);
  // the data is in place either way, so only a real I/O error is reported.
  const std::string dir = dir_prefix.empty() ? "." : dir_prefix;
  core::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd && ::fsync(dir_fd.get()) != 0 && errno == EIO) {
    return io_error("fsync of the directory failed", path, errno);
  }
  return {};
}

}  // namespace gwprobe::reports
