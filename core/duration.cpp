// Duration parsing and formatting.
#include "core/duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace gwprobe::core {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string shown(text);
  auto bad = [&](const std::string& why) {
    return fail(FailureKind::invalid_input,
                "bad duration '" + shown + "': " + why + " (examples: 5s, 250ms, 1m30s, 2h)");
  };
  if (text.empty()) return bad("empty");
  double total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const std::size_t start = i;
    bool dot = false;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
      dot = dot || text[i] == '.';
      ++i;
    }
    if (i == start) return bad("expected a number");
    const std::string number(text.substr(start, i - start));
    if (number == ".") return bad("expected a number");
    const double value = std::strtod(number.c_str(), nullptr);
    const std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit.empty()) {
      if (any || i != text.size()) return bad("missing unit");
      scale = 1000;  // a bare number is seconds
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else {
      return bad("unknown unit '" + std::string(unit) + "'");
    }
    total_ms += value * scale;
    any = true;
  }
  if (total_ms > 30.0 * 24 * 3'600'000) return bad("longer than 30 days");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  char buf[48];
  const double ns = static_cast<double>(d.count());
  if (ns < 0) {
    std::string out(1, '-');
    out += format_duration(-d);
    return out;
  }
  if (ns < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f µs", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(buf, sizeof buf, ns < 1e7 ? "%.1f ms" : "%.0f ms", ns / 1e6);
  } else if (ns < 60e9) {
    std::snprintf(buf, sizeof buf, "%.1f s", ns / 1e9);
  } else {
    const auto total_s = static_cast<long long>(ns / 1e9);
    std::snprintf(buf, sizeof buf, "%lld m %02lld s", total_s / 60, total_s % 60);
  }
  return buf;
}

double to_ms(std::chrono::nanoseconds d) {
  return std::round(static_cast<double>(d.count()) / 1e3) / 1e3;
}

}  // namespace gwprobe::core
