// FailureKind names and Error formatting.
#include "core/result.hpp"

namespace gwprobe::core {

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::invalid_input:
      return "invalid_input";
    case FailureKind::not_found:
      return "not_found";
    case FailureKind::io:
      return "io";
    case FailureKind::network:
      return "network";
    case FailureKind::timeout:
      return "timeout";
    case FailureKind::cancelled:
      return "cancelled";
    case FailureKind::protocol:
      return "protocol";
    case FailureKind::auth:
      return "auth";
    case FailureKind::unsupported:
      return "unsupported";
    case FailureKind::internal:
      return "internal";
  }
  return "internal";
}

std::string Error::describe() const {
  if (cause.empty() || cause == message) return message;
  return message + " (" + cause + ")";
}

}  // namespace gwprobe::core
