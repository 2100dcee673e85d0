// The PostgreSQL data source: libpq, one connection per run, rows streamed in single-row mode.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "gateway/datasource/datasource.hpp"

namespace gwprobe::gateway::datasource {

/// A PostgreSQL database reached with a libpq connection string (key=value or URI, without a
/// password). Each run connects, runs one statement and disconnects.
class PostgresSource final : public DataSource {
 public:
  /// `password` is the configured one (opened from password_sealed), if any.
  PostgresSource(std::string name, std::string conninfo, std::optional<core::Secret> password);
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "postgres"; }
  /// Connects with connect_timeout from the deadline (at least 1 s), sets statement_timeout to
  /// what is left, and streams the rows. Every network wait is bounded by the deadline (libpq
  /// resolves a host *name* blocking, before the first wait: use addresses for hard limits).
  core::Result<void> run(std::string_view sql, const std::optional<core::Secret>& password,
                         RowSink& sink, const core::Deadline& deadline) const override;

 private:
  std::string name_;
  std::string conninfo_;
  std::optional<core::Secret> password_;
};

/// The failure kind of a server error's SQLSTATE: class 28 (28P01 bad password, 28000 no
/// such role / pg_hba) auth, 57014 (statement timeout, cancel) timeout, 08 and 57P0x (the server
/// going away or not accepting connections) network, 3D000 (no such database) not_found, 58 and
/// XX io (the server's own trouble), and the rest, class 42 first, invalid_input: the database
/// refused the SQL.
core::FailureKind failure_kind_of_sqlstate(std::string_view sqlstate) noexcept;

/// The failure kind of a connection attempt that failed, from libpq's message (libpq exposes no
/// SQLSTATE for it): authentication failures are auth, "timeout expired" is timeout, a missing
/// database not_found, anything else (refused, unreachable, no such host, server down) network.
core::FailureKind failure_kind_of_connection_error(std::string_view libpq_message,
                                                   bool needs_password) noexcept;

/// libpq's multi-line messages ("FATAL:  ...\nDETAIL: ...", "...\n\tIs the server running...")
/// as one line: each line trimmed, joined by single spaces, runs of blanks collapsed.
std::string one_line(std::string_view message);

}  // namespace gwprobe::gateway::datasource
