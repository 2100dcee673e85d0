// Durations as people write them ("5s", "250ms", "1m30s") and as reports print them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::core {

/// Parses "300" (seconds), "1.5s", "250ms", "5m", "1h", "1m30s", "2h45m". Units: ms, s, m, h.
/// Rejects negatives, empty strings, unknown units and values above 30 days.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

/// "850 µs", "12 ms", "2.3 s", "4 m 05 s": short and human, for text reports.
std::string format_duration(std::chrono::nanoseconds d);

/// Milliseconds as a double with microsecond precision, for JSON ("duration_ms": 12.345).
double to_ms(std::chrono::nanoseconds d);

}  // namespace gwprobe::core
