// ReconnectSchedule: capped exponential backoff with full jitter.
#include "gateway/agent/reconnect_schedule.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace gwprobe::gateway::agent {

namespace {

ReconnectSchedule::Random default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

ReconnectSchedule::ReconnectSchedule(Random random)
    : ReconnectSchedule(Settings{}, std::move(random)) {}

ReconnectSchedule::ReconnectSchedule(Settings settings, Random random)
    : settings_(settings), random_(random ? std::move(random) : default_random()) {}

std::chrono::milliseconds ReconnectSchedule::ceiling() const {
  // 2^failures overflows nothing: past 2^20 the cap has long been reached.
  const auto shift = std::min(failures_, 20u);
  const auto grown = settings_.base * (std::int64_t{1} << shift);
  return std::min(settings_.cap, grown);
}

std::chrono::milliseconds ReconnectSchedule::next_delay() {
  const auto top = ceiling();
  double r = random_();
  r = std::clamp(r, 0.0, 1.0);
  ++failures_;
  const auto delay =
      std::chrono::milliseconds(static_cast<std::int64_t>(r * static_cast<double>(top.count())));
  return std::min(delay, settings_.cap);
}

std::chrono::milliseconds ReconnectSchedule::auth_refused_delay() {
  ++failures_;
  return settings_.cap;
}

void ReconnectSchedule::connected(core::SteadyClock::time_point at) {
  up_ = true;
  up_since_ = at;
}

void ReconnectSchedule::disconnected(core::SteadyClock::time_point at) {
  if (up_ && at - up_since_ >= settings_.stable_after) failures_ = 0;
  up_ = false;
}

}  // namespace gwprobe::gateway::agent
