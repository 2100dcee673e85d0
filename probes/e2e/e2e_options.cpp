// e2e option checks.
#include "probes/e2e/e2e_options.hpp"

#include "gateway/protocol/query_messages.hpp"

namespace gwprobe::probes::e2e {

core::Result<void> validate(const E2eOptions& options) {
  if (options.sql.empty()) {
    return core::fail(core::FailureKind::invalid_input, "the query (SQL) is empty");
  }
  if (options.sql.size() > gateway::protocol::kMaxRequestBytes) {
    return core::fail(core::FailureKind::invalid_input,
                      "the query is longer than the gateway accepts");
  }
  return websocket::validate(options.websocket);
}

}  // namespace gwprobe::probes::e2e
