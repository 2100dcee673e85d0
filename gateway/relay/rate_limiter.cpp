// Failed-handshake rate limiter.
#include "gateway/relay/rate_limiter.hpp"

namespace gwprobe::gateway::relay {

AuthFailureLimiter::AuthFailureLimiter(const core::Clock& clock, std::size_t allowed,
                                       std::chrono::milliseconds window,
                                       std::chrono::milliseconds block, std::size_t max_tracked)
    : clock_(clock), allowed_(allowed), window_(window), block_(block), max_tracked_(max_tracked) {}

bool AuthFailureLimiter::blocked(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(address);
  return it != entries_.end() && clock_.now() < it->second.blocked_until;
}

void AuthFailureLimiter::record_failure(const std::string& address) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_tracked_ && entries_.find(address) == entries_.end()) prune(now);
  if (entries_.size() >= max_tracked_) return;  // all tracked addresses are active: stay bounded
  auto& e = entries_[address];
  if (now - e.window_start >= window_) {
    e.window_start = now;
    e.failures = 0;
  }
  if (++e.failures >= allowed_) {
    e.blocked_until = now + block_;
    e.failures = 0;
    e.window_start = now;
  }
}

std::size_t AuthFailureLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void AuthFailureLimiter::prune(core::Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool stale = now >= it->second.blocked_until && now - it->second.window_start >= window_;
    it = stale ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace gwprobe::gateway::relay
