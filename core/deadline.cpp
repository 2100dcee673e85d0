// Deadline arithmetic, saturating so that "never" and huge budgets do not overflow.
#include "core/deadline.hpp"

#include <limits>

namespace gwprobe::core {

Deadline Deadline::after(SteadyClock::duration budget) noexcept {
  const auto now = SteadyClock::now();
  if (budget <= SteadyClock::duration::zero()) return Deadline(now);
  if (budget >= SteadyClock::time_point::max() - now) return never();
  return Deadline(now + budget);
}

SteadyClock::duration Deadline::remaining() const noexcept {
  const auto now = SteadyClock::now();
  return now >= when_ ? SteadyClock::duration::zero() : when_ - now;
}

int Deadline::remaining_ms(int cap_ms) const noexcept {
  if (is_never()) return cap_ms;
  const auto left = remaining();
  // Round up so that a poll() never wakes a hair before the deadline and spins.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  if (ms > std::numeric_limits<int>::max()) ms = std::numeric_limits<int>::max();
  int out = static_cast<int>(ms);
  if (cap_ms >= 0 && out > cap_ms) out = cap_ms;
  return out;
}

}  // namespace gwprobe::core
