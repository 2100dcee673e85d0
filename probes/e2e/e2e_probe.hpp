// The end-to-end probe: a query through the relay to a gateway agent and back, verified by the
// trailer's row count and SHA-256. `gwprobe query` uses the same exchange and prints the rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "gateway/protocol/query_messages.hpp"
#include "probes/e2e/e2e_options.hpp"
#include "probes/probe.hpp"

namespace gwprobe::probes::e2e {

/// Fact keys the e2e probe records.
namespace fact {
inline constexpr std::string_view relay_url = "e2e_relay_url";  ///< without sb-hc-id
inline constexpr std::string_view datasource = "e2e_datasource";
inline constexpr std::string_view rows = "e2e_rows";                    ///< rows received
inline constexpr std::string_view sha256 = "e2e_sha256";                ///< of the rows received
inline constexpr std::string_view columns = "e2e_columns";              ///< the column names
inline constexpr std::string_view bytes = "e2e_bytes";                  ///< answer bytes received
inline constexpr std::string_view gateway_error = "e2e_gateway_error";  ///< "stage: message"
}  // namespace fact

/// What a query brought back: the probe's result (status, diagnosis, phases, facts) and, when it
/// verified, the columns and the first keep_rows rows.
struct QueryExchange {
  core::ProbeResult result;
  std::vector<std::string> columns;
  std::vector<gateway::protocol::Row> rows;
  std::uint64_t row_count = 0;
  std::string sha256;
};

/// Opens the sender's leg with open_websocket (resolve, connect, proxy, tls, upgrade phases and
/// their lower-layer diagnoses), sends the QueryRequest and reads the answer until the trailer,
/// a QueryError, the end of the connection or the deadline. Phases "query" (request to first
/// answer) and "transfer" (first answer to the trailer). pass = trailer verified. Never throws.
QueryExchange exchange_query(const core::Target& target, const E2eOptions& options,
                             const ProbeContext& context) noexcept;

/// exchange_query without the rows (the check's form).
core::ProbeResult run_e2e_probe(const core::Target& target, const E2eOptions& options,
                                const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::e2e
