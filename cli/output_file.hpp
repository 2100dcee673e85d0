// Writing the files `relay init` and `gateway keygen` create (certificates, SAS keys, private
// keys), so that a secret is never briefly readable by others.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace gwprobe::cli {

/// Replaces `path` with `content`, created under umask 077 and then set to `mode` (0600 for a
/// secret, 0644 for a certificate or public key). Throws CliError (exit 3) when it cannot write.
void write_output_file(const std::filesystem::path& path, const std::string& content, mode_t mode);

}  // namespace gwprobe::cli
