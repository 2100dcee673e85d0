// The query frames gwprobe's client and gateway agent exchange over a Hybrid Connections
// rendezvous WebSocket: one JSON object per text message, with one top-level key naming it,
// in the style of the control messages. A query is answered by columns, row batches and a
// trailer whose row count and SHA-256 let the client prove the rows arrived whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace gwprobe::gateway::protocol {

/// One value: SQL NULL or its text (integers and reals in the database's own text form, blobs
/// as "\x" + lower-case hex, as PostgreSQL prints bytea).
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

/// A batch never holds more rows than this, nor (after the first row) more JSON bytes than
/// kMaxBatchBytes; a single larger row travels alone.
inline constexpr std::size_t kMaxBatchRows = 500;
inline constexpr std::size_t kMaxBatchBytes = 64 * 1024;
/// A query message the agent accepts (the SQL, names and sealed credentials together).
inline constexpr std::size_t kMaxRequestBytes = 256 * 1024;

/// client -> gateway: `{"gwprobeQuery":{"id":..,"datasource":..,"sql":..,"credentials":..}}`.
struct QueryRequest {
  std::string id;          ///< chosen by the client, echoed in every answer
  std::string datasource;  ///< a name in the gateway's data-sources file; empty = its default
  std::string sql;
  /// A password sealed to the gateway's public key (protocol/sealed.hpp); overrides the one in
  /// the data-sources file. Never in clear on the wire.
  std::optional<std::string> sealed_credentials;
};

/// gateway -> client, first answer: `{"columns":{"id":..,"names":[..]}}`.
struct QueryColumns {
  std::string id;
  std::vector<std::string> names;
};

/// gateway -> client, zero or more: `{"rows":{"id":..,"values":[[..],..]}}`.
struct QueryRows {
  std::string id;
  std::vector<Row> rows;
};

/// gateway -> client, last answer on success: `{"trailer":{"id":..,"rows":N,"sha256":".."}}`.
struct QueryTrailer {
  std::string id;
  std::uint64_t rows = 0;
  std::string sha256;  ///< lower-case hex of RowDigest over every row sent
};

/// Where a query failed on the gateway's side.
enum class QueryStage {
  request,      ///< the request itself was malformed or too large
  datasource,   ///< no such data source configured
  credentials,  ///< the sealed credentials could not be opened with the gateway's key
  database,     ///< the database refused the connection or the query (its own message)
  busy,         ///< the gateway is at its concurrency limit
  internal,     ///< a bug on the gateway
};
std::string_view to_string(QueryStage stage);

/// gateway -> client, last answer on failure: `{"queryError":{"id":..,"stage":..,"message":..}}`.
/// The message is the database's own text where there is one, and never holds a credential.
struct QueryError {
  std::string id;
  QueryStage stage = QueryStage::internal;
  std::string message;
};

using QueryMessage = std::variant<QueryRequest, QueryColumns, QueryRows, QueryTrailer, QueryError>;

/// Parses one query message. Fails (protocol) on invalid JSON, not exactly one top-level key,
/// an unknown key, a missing or mistyped field, or a value that is neither null nor a string.
core::Result<QueryMessage> parse_query_message(std::string_view json);

/// One-line JSON of any query message.
std::string serialize(const QueryMessage& message);

/// `text` with every invalid UTF-8 sequence replaced by U+FFFD. Data sources pass text values
/// through it, so that what is hashed is exactly what JSON can carry.
std::string to_valid_utf8(std::string_view text);

/// The JSON size a row adds to a batch (what batching counts against kMaxBatchBytes).
std::size_t encoded_size(const Row& row);

/// SHA-256 over the rows in order, framed so that no two different row sequences hash alike:
/// per value 'N' (null) or 'S' + 8-byte big-endian length + bytes; per row a '\n'. Both sides
/// compute it over the rows they send or receive.
class RowDigest {
 public:
  RowDigest();
  ~RowDigest();
  RowDigest(const RowDigest&) = delete;
  RowDigest& operator=(const RowDigest&) = delete;
  void add(const Row& row);
  std::uint64_t rows() const { return rows_; }
  /// Lower-case hex digest of everything added so far (the digest can keep growing).
  std::string hex() const;

 private:
  void* ctx_ = nullptr;  // EVP_MD_CTX*, kept out of the header
  std::uint64_t rows_ = 0;
};

}  // namespace gwprobe::gateway::protocol
