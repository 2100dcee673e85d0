// JSON-lines logging for the relay: one object per line on stderr (or a test's sink).
// Callers pass named fields; nothing here ever formats a request target, a header or a token,
// so a secret can only reach the log if a caller names it explicitly (tests grep for that).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gwprobe::gateway::relay {

/// A field value: text, integer, real or boolean.
struct LogValue {
  std::variant<std::string, std::int64_t, double, bool> value;
  LogValue(std::string_view s) : value(std::string(s)) {}             // NOLINT: implicit by design
  LogValue(const std::string& s) : value(s) {}                        // NOLINT
  LogValue(const char* s) : value(std::string(s)) {}                  // NOLINT
  LogValue(int v) : value(static_cast<std::int64_t>(v)) {}            // NOLINT
  LogValue(long v) : value(static_cast<std::int64_t>(v)) {}           // NOLINT
  LogValue(long long v) : value(static_cast<std::int64_t>(v)) {}      // NOLINT
  LogValue(unsigned v) : value(static_cast<std::int64_t>(v)) {}       // NOLINT
  LogValue(unsigned long v) : value(static_cast<std::int64_t>(v)) {}  // NOLINT
  LogValue(unsigned long long v) : value(static_cast<std::int64_t>(v)) {}  // NOLINT
  LogValue(double v) : value(v) {}                                         // NOLINT
  LogValue(bool v) : value(v) {}                                           // NOLINT
};

using LogFields = std::initializer_list<std::pair<std::string_view, LogValue>>;

class JsonLog {
 public:
  enum class Level { debug, info, warn, error };
  using Sink = std::function<void(std::string_view line)>;

  /// Writes to stderr.
  JsonLog();
  explicit JsonLog(Sink sink, Level min_level = Level::info);

  void log(Level level, std::string_view event, LogFields fields = {});
  void debug(std::string_view event, LogFields fields = {}) { log(Level::debug, event, fields); }
  void info(std::string_view event, LogFields fields = {}) { log(Level::info, event, fields); }
  void warn(std::string_view event, LogFields fields = {}) { log(Level::warn, event, fields); }
  void error(std::string_view event, LogFields fields = {}) { log(Level::error, event, fields); }

 private:
  Sink sink_;
  Level min_level_;
  std::mutex mutex_;
};

}  // namespace gwprobe::gateway::relay
