// JSON-lines log writer.
#include "gateway/relay/json_log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace gwprobe::gateway::relay {

namespace {
std::string_view level_name(JsonLog::Level level) {
  switch (level) {
    case JsonLog::Level::debug:
      return "debug";
    case JsonLog::Level::info:
      return "info";
    case JsonLog::Level::warn:
      return "warn";
    case JsonLog::Level::error:
      return "error";
  }
  return "info";
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}
}  // namespace

JsonLog::JsonLog()
    : JsonLog([](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
      }) {}

JsonLog::JsonLog(Sink sink, Level min_level) : sink_(std::move(sink)), min_level_(min_level) {}

void JsonLog::log(Level level, std::string_view event, LogFields fields) {
  if (level < min_level_) return;
  nlohmann::ordered_json line;
  line["ts"] = utc_now();
  line["level"] = level_name(level);
  line["event"] = event;
  for (const auto& [name, value] : fields) {
    std::visit([&, key = std::string(name)](const auto& v) { line[key] = v; }, value.value);
  }
  // Replace invalid UTF-8 rather than throw: peer-supplied text may be anything.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  std::lock_guard lock(mutex_);
  sink_(text);
}

}  // namespace gwprobe::gateway::relay
