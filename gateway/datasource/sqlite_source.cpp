// SQLite data source: one read-only connection per run (so runs on several threads never share
// a handle), the deadline enforced by the busy timeout and a progress-handler interrupt.
#include "gateway/datasource/sqlite_source.hpp"

#include <sqlite3.h>

#include <climits>
#include <filesystem>
#include <memory>
#include <system_error>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::datasource {

namespace {

using core::FailureKind;

/// How many SQLite VM instructions run between two deadline checks: small enough that a
/// runaway query stops within milliseconds of the deadline, large enough to cost nothing.
constexpr int kProgressInstructions = 1000;

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteClose>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalize>;

int stop_at_deadline(void* deadline) {
  return static_cast<const core::Deadline*>(deadline)->expired() ? 1 : 0;
}

core::Unexpected from_sqlite(sqlite3* db, int code, const core::Deadline& deadline) {
  const FailureKind kind = failure_kind_of_sqlite(code);
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  if (kind == FailureKind::timeout && (code & 0xff) == SQLITE_INTERRUPT) {
    message = "the query was interrupted at its deadline";
  } else if (kind == FailureKind::timeout && deadline.expired()) {
    message += " (until the deadline)";
  }
  return core::fail(kind, std::move(message), sqlite3_errstr(code));
}

protocol::Value column_value(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL:
      return std::nullopt;
    case SQLITE_INTEGER:
      return std::to_string(sqlite3_column_int64(stmt, column));
    case SQLITE_BLOB: {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, column));
      const int size = sqlite3_column_bytes(stmt, column);
      return "\\x" + protocol::hex_encode(std::string_view(data ? data : "", size));
    }
    default: {  // SQLITE_TEXT, and SQLITE_FLOAT in SQLite's own text form ("%!.15g")
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
      const int size = sqlite3_column_bytes(stmt, column);
      return std::string(text ? text : "", static_cast<std::size_t>(size));
    }
  }
}

}  // namespace

core::FailureKind failure_kind_of_sqlite(int code) noexcept {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_INTERRUPT:
      return FailureKind::timeout;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return FailureKind::io;
    case SQLITE_AUTH:
      return FailureKind::auth;
    case SQLITE_NOMEM:
    case SQLITE_INTERNAL:
    case SQLITE_MISUSE:
      return FailureKind::internal;
    default:  // SQLITE_ERROR (syntax, no such table), READONLY, CONSTRAINT, MISMATCH, TOOBIG...
      return FailureKind::invalid_input;
  }
}

SqliteSource::SqliteSource(std::string name, std::string path)
    : name_(std::move(name)), path_(std::move(path)) {}

core::Result<void> SqliteSource::run(std::string_view sql, const std::optional<core::Secret>&,
                                     RowSink& sink, const core::Deadline& deadline) const {
  if (deadline.expired()) {
    return core::fail(FailureKind::timeout, "the deadline passed before the query started");
  }
  // SQLITE_OPEN_READONLY never creates a file, but its error ("unable to open database file")
  // does not say which: name the path ourselves.
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    return core::fail(FailureKind::not_found, "data source '" + name_ + "': SQLite database '" +
                                                  path_ + "' does not exist");
  }
  sqlite3* raw = nullptr;
  const int opened =
      sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  SqlitePtr db(raw);
  if (opened != SQLITE_OK) {
    auto failure = from_sqlite(db.get(), opened, deadline);
    core::Error error = failure.error();
    error.message = "data source '" + name_ + "': cannot open '" + path_ + "': " + error.message;
    return core::fail(std::move(error));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), deadline.remaining_ms(INT_MAX));
  // The handler reads the caller's deadline, which outlives the connection (closed below).
  sqlite3_progress_handler(db.get(), kProgressInstructions, stop_at_deadline,
                           const_cast<core::Deadline*>(&deadline));

  if (sql.empty()) return core::fail(FailureKind::invalid_input, "no SQL statement to run");
  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  const int prepared =
      sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()), 0, &raw_stmt, &tail);
  StatementPtr stmt(raw_stmt);
  if (prepared != SQLITE_OK) return from_sqlite(db.get(), prepared, deadline);
  if (!stmt) return core::fail(FailureKind::invalid_input, "no SQL statement to run");
  // Whatever follows the first statement must compile to nothing (blanks, ';', comments).
  sqlite3_stmt* raw_next = nullptr;
  const auto rest = static_cast<int>(sql.size() - static_cast<std::size_t>(tail - sql.data()));
  const int next = sqlite3_prepare_v3(db.get(), tail, rest, 0, &raw_next, nullptr);
  StatementPtr next_stmt(raw_next);
  if (next != SQLITE_OK || next_stmt) {
    return core::fail(FailureKind::invalid_input,
                      "one SQL statement per query: found more after the first");
  }

  const int count = sqlite3_column_count(stmt.get());
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const char* column = sqlite3_column_name(stmt.get(), i);
    names.emplace_back(column ? column : "");
  }
  if (auto sent = sink.columns(std::move(names)); !sent) return sent;

  for (;;) {
    const int stepped = sqlite3_step(stmt.get());
    if (stepped == SQLITE_DONE) return {};
    if (stepped != SQLITE_ROW) return from_sqlite(db.get(), stepped, deadline);
    Row row;
    row.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) row.push_back(column_value(stmt.get(), i));
    if (auto sent = sink.row(std::move(row)); !sent) return sent;
  }
}

}  // namespace gwprobe::gateway::datasource
