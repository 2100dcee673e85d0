// One reader for secret files (see secret_file.hpp).
#include "core/secret_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gwprobe::core {

Result<Secret> read_secret_file(const std::string& path, std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (std::filesystem::exists(path, ec)) {  // a directory, /dev/null, a FIFO
      return fail(FailureKind::invalid_input,
                  prefix + path + " is not a regular file (a secret file holds one line)");
    }
    return fail(FailureKind::not_found, prefix + "cannot read " + path + " (no such file)");
  }
  if (std::filesystem::file_size(path, ec) > kMaxSecretFileBytes || ec) {
    return fail(ec ? FailureKind::io : FailureKind::invalid_input,
                ec ? prefix + "cannot read " + path + " (" + ec.message() + ")"
                   : prefix + path + " is larger than 64 KiB (a secret file holds one line)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(FailureKind::io, prefix + "cannot read " + path + " (permission?)");
  std::ostringstream text;
  text << in.rdbuf();
  std::string content = std::move(text).str();
  content.resize(std::min(content.size(), content.find('\n')));
  if (!content.empty() && content.back() == '\r') content.pop_back();
  Secret secret(std::move(content));
  if (secret.empty()) return fail(FailureKind::invalid_input, prefix + path + " is empty");
  return secret;
}

}  // namespace gwprobe::core
