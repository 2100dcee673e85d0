// Verdict names and result counting.
#include "core/report.hpp"

namespace gwprobe::core {

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::ready:
      return "ready";
    case Verdict::degraded:
      return "degraded";
    case Verdict::not_ready:
      return "not_ready";
  }
  return "not_ready";
}

Counts count_results(const std::vector<ProbeResult>& results) {
  Counts c;
  for (const auto& r : results) {
    switch (r.status) {
      case Status::pass:
        ++c.pass;
        break;
      case Status::warn:
        ++c.warn;
        break;
      case Status::fail:
        ++c.fail;
        break;
      case Status::skip:
        ++c.skip;
        break;
      case Status::error:
        ++c.error;
        break;
    }
  }
  return c;
}

}  // namespace gwprobe::core
