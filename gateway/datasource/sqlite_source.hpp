// The SQLite data source: a read-only connection per query, interrupted at the deadline.
#pragma once

#include <string>

#include "core/result.hpp"
#include "gateway/datasource/datasource.hpp"

namespace gwprobe::gateway::datasource {

/// A SQLite database file, opened read-only (never created) for each run.
class SqliteSource final : public DataSource {
 public:
  SqliteSource(std::string name, std::string path);
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "sqlite"; }
  /// `password` does not apply to SQLite and is ignored. A missing file is not_found.
  core::Result<void> run(std::string_view sql, const std::optional<core::Secret>& password,
                         RowSink& sink, const core::Deadline& deadline) const override;

 private:
  std::string name_;
  std::string path_;
};

/// The failure kind of a SQLite result code (primary or extended): busy/locked/interrupt are
/// timeout (the busy wait and the interrupt both come from the deadline), file trouble is io,
/// SQLITE_AUTH is auth, and anything the SQL itself caused is invalid_input.
core::FailureKind failure_kind_of_sqlite(int code) noexcept;

}  // namespace gwprobe::gateway::datasource
