// The progress line: appears after a grace period so quick runs stay quiet.
#include "cli/progress.hpp"

#include <cstdio>

#include "core/duration.hpp"

namespace gwprobe::cli {

namespace {
constexpr auto kGrace = std::chrono::seconds(2);
constexpr auto kRedraw = std::chrono::milliseconds(250);
}  // namespace

Progress::Progress(bool enabled, std::size_t total)
    : enabled_(enabled), total_(total), start_(std::chrono::steady_clock::now()) {
  if (enabled_) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() {
  stop_.cancel();
  if (ticker_.joinable()) ticker_.join();
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::on_result(const core::ProbeResult& result, std::size_t done) {
  done_ = done;
  std::lock_guard lock(mutex_);
  last_ = result.id;
  if (result.kind == "idle") idle_.clear();  // its countdown is over
}

void Progress::on_idle(const std::string& check_id, const probes::idle::IdleProgress& p) {
  std::string text = "  " + check_id + ": " + std::to_string(p.resolved) + "/" +
                     std::to_string(p.rungs) + " idle connections settled, at most " +
                     core::format_duration(p.remaining) + " left";
  if (p.cut) text += ", cut seen after " + core::format_duration(*p.cut);
  std::lock_guard lock(mutex_);
  idle_ = std::move(text);
}

void Progress::tick() {
  if (stop_.wait_for(kGrace)) return;
  do {
    draw();
  } while (!stop_.wait_for(kRedraw));
}

void Progress::draw() {
  std::lock_guard lock(mutex_);
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_)
          .count();
  std::fprintf(stderr, "\r\033[Kchecking: %zu/%zu done, %lld s%s%s%s", done_.load(), total_,
               static_cast<long long>(secs), last_.empty() ? "" : "  last: ", last_.c_str(),
               idle_.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace gwprobe::cli
