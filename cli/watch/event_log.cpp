// JSON-lines event log on stdout or an append-only file.
#include "cli/watch/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "reports/report_parts.hpp"

namespace gwprobe::cli::watch {
namespace {

constexpr mode_t kLogMode = 0644;

core::Result<core::UniqueFd> open_for_append(const std::string& path) {
  core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kLogMode));
  if (!fd) {
    return core::fail(core::FailureKind::io,
                      "cannot open " + path + " for appending: " + std::strerror(errno));
  }
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

core::Result<std::unique_ptr<EventLog>> EventLog::open(const std::string& target) {
  std::unique_ptr<EventLog> log(new EventLog(target));
  if (target != "-" && !target.empty()) {
    auto fd = open_for_append(target);
    if (!fd) return core::fail(fd.error());
    log->fd_ = std::move(*fd);
  }
  return log;
}

void EventLog::write(std::string_view event, const nlohmann::ordered_json& fields) {
  if (target_.empty()) return;
  nlohmann::ordered_json line;
  line["time"] = reports::rfc3339_utc(std::chrono::system_clock::now());
  line["event"] = event;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  // A peer's text may be anything: replace invalid UTF-8 rather than throw.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  const int fd = target_ == "-" ? STDOUT_FILENO : fd_.get();
  if (!write_all(fd, text)) ++failed_writes_;
}

core::Result<void> EventLog::reopen() {
  if (target_ == "-" || target_.empty()) return {};
  auto fd = open_for_append(target_);
  if (!fd) return core::fail(fd.error());
  std::lock_guard lock(mutex_);
  fd_ = std::move(*fd);
  return {};
}

std::uint64_t EventLog::failed_writes() const {
  std::lock_guard lock(mutex_);
  return failed_writes_;
}

nlohmann::ordered_json state_change_fields(const StateChange& change) {
  nlohmann::ordered_json f;
  f["check"] = change.check;
  f["kind"] = change.kind;
  f["target"] = change.target;
  f["required"] = change.required;
  f["from"] = change.from ? nlohmann::ordered_json(core::to_string(*change.from))
                          : nlohmann::ordered_json(nullptr);
  f["to"] = core::to_string(change.to);
  f["from_code"] = change.from_code ? nlohmann::ordered_json(core::to_code(*change.from_code))
                                    : nlohmann::ordered_json(nullptr);
  f["to_code"] = core::to_code(change.to_code);
  f["message"] = change.message;
  return f;
}

}  // namespace gwprobe::cli::watch
