// The gateway agent's data sources: a SQLite file (the embedded default) and PostgreSQL through
// libpq. A query runs on its own connection (so queries run side by side on worker threads) and
// streams its columns and rows into a sink, which can stop it early.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "gateway/protocol/query_messages.hpp"
#include "gateway/protocol/sealed.hpp"

namespace gwprobe::gateway::datasource {

using protocol::Row;

/// Receives a query's answer. Returning an error stops the query (the client went away); that
/// error is what DataSource::run returns.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual core::Result<void> columns(std::vector<std::string> names) = 0;
  virtual core::Result<void> row(Row row) = 0;
};

/// One configured data source.
class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual const std::string& name() const = 0;
  virtual std::string_view kind() const = 0;  ///< "sqlite" or "postgres"
  /// Runs `sql`, calling sink.columns once, then sink.row per row. `password` (opened from a
  /// query's sealed credentials) overrides the configured one. Fails with the database's own
  /// message: network when it cannot be reached (refused, down), auth on bad credentials,
  /// invalid_input when it rejects the SQL, timeout at the deadline. No message ever holds a
  /// password or a connection string with one. Safe to call from several threads at once.
  virtual core::Result<void> run(std::string_view sql, const std::optional<core::Secret>& password,
                                 RowSink& sink, const core::Deadline& deadline) const = 0;
};

/// One `[[datasource]]` of a data-sources file.
struct DataSourceConfig {
  std::string name;
  std::string kind;      ///< "sqlite" | "postgres"
  std::string path;      ///< sqlite: the database file (opened read-only)
  std::string conninfo;  ///< postgres: libpq key=value or URI, without a password
  /// postgres: the password sealed to the gateway's key (`gwprobe gateway seal`); never clear.
  std::optional<std::string> sealed_password;
};

/// Reads a data-sources TOML file:
///
///     [[datasource]]
///     name = "sample"
///     kind = "sqlite"
///     path = "/var/lib/gwprobe/sample.db"
///
///     [[datasource]]
///     name = "orders"
///     kind = "postgres"
///     conninfo = "host=db.corp port=5432 dbname=orders user=gateway"
///     password_sealed = "gwp-sealed-v1:..."
///
/// The first one is the default. A relative sqlite `path` is taken relative to the file's own
/// directory. Errors (invalid_input) say file:line:column and what was expected (unknown keys, a
/// clear-text `password`, a conninfo that holds a password, duplicate names...) and never quote a
/// password; a missing file is not_found, an unreadable one io.
core::Result<std::vector<DataSourceConfig>> load_datasources(const std::string& path);

/// load_datasources on text already read; `source_name` is what messages call the file (and
/// whose directory relative sqlite paths are taken from).
core::Result<std::vector<DataSourceConfig>> parse_datasources(std::string_view toml_text,
                                                              std::string_view source_name);

/// Builds the data source. A sealed password is opened here with `key` (required then); a
/// postgres source is not connected until a query runs.
core::Result<std::unique_ptr<DataSource>> open_datasource(const DataSourceConfig& config,
                                                          const protocol::GatewayKey* key);

/// Writes the demo's sample SQLite database: table `sample(id INTEGER PRIMARY KEY, name TEXT,
/// amount REAL, created TEXT, note TEXT NULL)` with `rows` deterministic rows (same file
/// content for the same count). Replaces an existing file atomically.
core::Result<void> create_sample_database(const std::string& path, int rows);

}  // namespace gwprobe::gateway::datasource
