// CancelToken on an eventfd: one flag, one descriptor, usable from signal handlers and poll().
#include "core/cancel.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace gwprobe::core {

struct CancelToken::State {
  std::atomic<bool> flag{false};
  int fd = -1;
  State() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd < 0) throw std::runtime_error("eventfd failed: out of descriptors?");
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { ::close(fd); }
};

static_assert(std::atomic<bool>::is_always_lock_free, "cancel() must be async-signal-safe");

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

void CancelToken::cancel() const noexcept {
  state_->flag.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // The counter saturating (EAGAIN) is fine: it is already readable.
  [[maybe_unused]] auto n = ::write(state_->fd, &one, sizeof one);
}

bool CancelToken::cancelled() const noexcept {
  return state_->flag.load(std::memory_order_acquire);
}

int CancelToken::fd() const noexcept {
  return state_->fd;
}

bool CancelToken::wait_for(std::chrono::nanoseconds limit) const noexcept {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!cancelled()) {
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return false;
    pollfd p{state_->fd, POLLIN, 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    const int rc = ::poll(&p, 1, static_cast<int>(ms > 60'000 ? 60'000 : ms));
    if (rc < 0 && errno != EINTR) return cancelled();
  }
  return true;
}

}  // namespace gwprobe::core
