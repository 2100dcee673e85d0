// Reading a secret (a password, a SAS key) from a file, the same way for every flag and profile
// key that names one, so that `check`, `watch`, `query` and `gateway run` never disagree about
// what a key file holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace gwprobe::core {

/// A secret file holds one line; anything larger is not a secret file.
inline constexpr std::uintmax_t kMaxSecretFileBytes = std::uintmax_t{64} * 1024;

/// The file's first line without its line ending ("\n" or "\r\n"); other whitespace is kept (it
/// may be part of a password). Errors name `what` and the path, never the content:
/// "WHAT: cannot read PATH (...)" (not_found: no such file; io: unreadable), "WHAT: PATH is
/// not a regular file", "WHAT: PATH is empty" and "WHAT: PATH is larger than 64 KiB"
/// (invalid_input).
Result<Secret> read_secret_file(const std::string& path, std::string_view what);

}  // namespace gwprobe::core
