// /proc/self/statm, /proc/self/stat and /proc/self/fd.
#include "cli/watch/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace gwprobe::cli::watch {

ProcessStats read_process_stats() {
  ProcessStats stats;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size_pages = 0, resident_pages = 0;
    if (statm >> size_pages >> resident_pages) {
      stats.virtual_bytes = size_pages * page;
      stats.resident_bytes = resident_pages * page;
    }
  }
  {
    // Fields 14 and 15 (utime, stime) follow the command name, which may hold spaces: parse
    // after its closing parenthesis.
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(text.substr(close + 2));
      std::string field;
      std::uint64_t utime = 0, stime = 0;
      for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) std::from_chars(field.data(), field.data() + field.size(), utime);
        if (i == 15) std::from_chars(field.data(), field.data() + field.size(), stime);
      }
      const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      if (ticks > 0) stats.cpu_seconds = static_cast<double>(utime + stime) / ticks;
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    stats.open_fds = n > 0 ? n - 1 : 0;  // not counting the directory's own descriptor
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = limit.rlim_cur;
  return stats;
}

}  // namespace gwprobe::cli::watch
