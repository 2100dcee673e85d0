// Secret: a string that cannot be printed by accident (proxy passwords, SAS keys, DB credentials).
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace gwprobe::core {

/// Holds a secret. There is no implicit conversion to string and operator<< prints "***", so a
/// secret reaches a log or report only through an explicit reveal() at the one place that sends
/// it on the wire. The buffer is wiped on destruction.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&& other) noexcept {
    wipe();
    value_ = std::move(other.value_);
    return *this;
  }
  ~Secret() { wipe(); }

  bool empty() const noexcept { return value_.empty(); }
  const std::string& reveal() const noexcept { return value_; }
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }
  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  void wipe() noexcept {
    volatile char* p = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
  }
  std::string value_;
};

}  // namespace gwprobe::core
