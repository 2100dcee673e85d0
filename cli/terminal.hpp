// Terminal facts: colour only on a TTY and never with NO_COLOR (https://no-color.org).
#pragma once

#include <cstdio>

namespace gwprobe::cli {

/// True when `stream` is a terminal, NO_COLOR is unset (or empty) and TERM is not "dumb".
bool color_enabled(std::FILE* stream);
/// True when `stream` is a terminal (for live progress on stderr).
bool is_terminal(std::FILE* stream);

}  // namespace gwprobe::cli
