// One writer for the key and certificate files the CLI creates.
#include "cli/output_file.hpp"

#include <sys/stat.h>

#include <fstream>

#include "cli/command.hpp"

namespace gwprobe::cli {

void write_output_file(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  // Created with the final mode's privacy: a secret is never briefly world-readable.
  std::filesystem::remove(path);
  const mode_t old_mask = ::umask(0077);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
      ::umask(old_mask);
      throw CliError(exit_code::internal, "cannot write '" + path.string() + "'");
    }
  }
  ::umask(old_mask);
  ::chmod(path.c_str(), mode);
}

}  // namespace gwprobe::cli
