// Serving one query on a rendezvous, without the network: parse the request, pick the data
// source, open sealed credentials, take a worker slot (or answer busy), run it and stream the
// answer as columns, row batches and a trailer (or a queryError). The agent plugs in a
// WebSocket; tests plug in a vector.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.hpp"
#include "core/result.hpp"
#include "gateway/datasource/datasource.hpp"
#include "gateway/protocol/query_messages.hpp"

namespace gwprobe::gateway::agent {

/// Opens a query's sealed credentials (GatewayKey::open of the gateway's identity); empty when
/// the gateway has no identity key.
using SealedOpener = std::function<core::Result<core::Secret>(std::string_view sealed)>;

/// Where the answer frames go. send() may block while the connection is behind (that is the
/// bounded outbound queue); it fails (network) when the client went away, which stops the
/// query.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual core::Result<void> send(std::string frame) = 0;
};

/// The configured data sources, by name; the first one is the default.
class DataSourceSet {
 public:
  /// Fails (invalid_input) on a duplicate name.
  core::Result<void> add(std::unique_ptr<datasource::DataSource> source);
  /// `name` empty: the default. nullptr when there is no such source.
  const datasource::DataSource* find(std::string_view name) const;
  bool empty() const { return sources_.empty(); }
  std::size_t size() const { return sources_.size(); }

 private:
  std::vector<std::unique_ptr<datasource::DataSource>> sources_;
};

/// At most `limit` queries at once, shared by every rendezvous; taking a slot never waits.
class QuerySlots {
 public:
  explicit QuerySlots(std::size_t limit) : limit_(limit) {}
  bool try_acquire();
  void release();
  std::size_t in_use() const { return in_use_.load(); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> in_use_{0};
};

/// What happened, for the log line (query_done / query_failed). Never holds SQL, credentials
/// or a rendezvous address.
struct QueryOutcome {
  std::string id;
  std::string datasource;  ///< the resolved name ("" when the request did not parse)
  bool ok = false;
  std::uint64_t rows = 0;
  /// On failure: a QueryStage name, or "client" when the client went away mid-answer (no
  /// queryError could be delivered then).
  std::string stage;
  std::string message;
};

/// Serves one request (the rendezvous' first text message). Every answer ends with a trailer
/// or a queryError unless the sink fails.
QueryOutcome serve_query(std::string_view request_json, const DataSourceSet& sources,
                         const SealedOpener& open_sealed, QuerySlots& slots, FrameSink& sink,
                         const core::Deadline& deadline);

}  // namespace gwprobe::gateway::agent
