// PostgreSQL data source over libpq: a non-blocking connect and query driven by poll() against
// the run's deadline, rows streamed in single-row mode, errors in the server's own words.
#include "gateway/datasource/postgres_source.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <vector>

#include "gateway/datasource/libpq.hpp"

namespace gwprobe::gateway::datasource {

namespace {

using core::FailureKind;

struct PgconnFinish {
  void operator()(PGconn* conn) const { libpq().finish(conn); }
};
struct PgresultClear {
  void operator()(PGresult* result) const { libpq().clear(result); }
};
using PgconnPtr = std::unique_ptr<PGconn, PgconnFinish>;
using PgresultPtr = std::unique_ptr<PGresult, PgresultClear>;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

enum class Wait { ready, timed_out, failed };

// Waits until the connection's socket is readable (or writable), at most until the deadline.
Wait wait_socket(PGconn* conn, bool for_write, const core::Deadline& deadline) {
  const int fd = libpq().socket(conn);
  if (fd < 0) return Wait::failed;
  for (;;) {
    if (deadline.expired()) return Wait::timed_out;
    pollfd pfd{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    const int ready = ::poll(&pfd, 1, deadline.remaining_ms(INT_MAX));
    if (ready > 0) return Wait::ready;
    if (ready < 0 && errno != EINTR) return Wait::failed;
  }
}

core::Unexpected connection_failure(PGconn* conn) {
  const std::string message = one_line(conn ? libpq().errorMessage(conn) : "out of memory");
  const bool needs_password = conn != nullptr && libpq().connectionNeedsPassword(conn) != 0;
  return core::fail(failure_kind_of_connection_error(message, needs_password), message);
}

core::Unexpected deadline_failure(std::string_view what) {
  return core::fail(FailureKind::timeout, std::string(what) + " did not finish by the deadline");
}

core::Unexpected result_failure(const PGresult* result) {
  const char* sqlstate = libpq().resultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = libpq().resultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const std::string message =
      primary ? one_line(primary) : one_line(libpq().resultErrorMessage(result));
  if (sqlstate == nullptr) return core::fail(FailureKind::network, message);
  return core::fail(failure_kind_of_sqlstate(sqlstate), message,
                    "SQLSTATE " + std::string(sqlstate));
}

// Connects without blocking past the deadline (PQconnectdbParams would block for up to
// connect_timeout per host, and not at all less).
core::Result<PgconnPtr> connect(const std::string& conninfo, const core::Secret* password,
                                const core::Deadline& deadline) {
  // Earlier entries are defaults the conninfo may override; later ones override it.
  std::vector<const char*> keys = {"client_encoding", "fallback_application_name", "dbname"};
  std::vector<const char*> values = {"UTF8", "gwprobe-gateway", conninfo.c_str()};
  std::string connect_timeout;
  if (!deadline.is_never()) {
    // Whole seconds, rounded up; libpq treats values below 2 as 2 s anyway.
    constexpr int kMsPerSecond = 1000;
    const int seconds =
        (deadline.remaining_ms(INT_MAX - kMsPerSecond) + kMsPerSecond - 1) / kMsPerSecond;
    connect_timeout = std::to_string(seconds < 1 ? 1 : seconds);
    keys.push_back("connect_timeout");
    values.push_back(connect_timeout.c_str());
  }
  if (password != nullptr) {
    keys.push_back("password");
    values.push_back(password->reveal().c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  PgconnPtr conn(libpq().connectStartParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (!conn || libpq().status(conn.get()) == CONNECTION_BAD) return connection_failure(conn.get());
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) return connection_failure(conn.get());
    switch (wait_socket(conn.get(), status == PGRES_POLLING_WRITING, deadline)) {
      case Wait::ready:
        break;
      case Wait::timed_out:
        return deadline_failure("connecting to the database");
      case Wait::failed:
        return connection_failure(conn.get());
    }
    status = libpq().connectPoll(conn.get());
  }
  return conn;
}

// The next result of the query in flight, waiting at most until the deadline; nullptr (with
// no error) when the query is complete.
core::Result<PgresultPtr> next_result(PGconn* conn, const core::Deadline& deadline) {
  while (libpq().isBusy(conn)) {
    switch (wait_socket(conn, false, deadline)) {
      case Wait::ready:
        break;
      case Wait::timed_out:
        return deadline_failure("the query");
      case Wait::failed:
        return connection_failure(conn);
    }
    if (libpq().consumeInput(conn) != 1) return connection_failure(conn);
  }
  return PgresultPtr(libpq().getResult(conn));
}

// Sends everything PQsend* queued, waiting for the socket at most until the deadline.
core::Result<void> flush(PGconn* conn, const core::Deadline& deadline) {
  for (;;) {
    const int pending = libpq().flush(conn);
    if (pending == 0) return {};
    if (pending < 0) return connection_failure(conn);
    switch (wait_socket(conn, true, deadline)) {
      case Wait::ready:
        break;
      case Wait::timed_out:
        return deadline_failure("sending the query");
      case Wait::failed:
        return connection_failure(conn);
    }
  }
}

// Runs a statement that returns no rows (SET), to completion.
core::Result<void> run_command(PGconn* conn, const char* sql, const core::Deadline& deadline) {
  if (libpq().sendQuery(conn, sql) != 1) return connection_failure(conn);
  if (auto sent = flush(conn, deadline); !sent) return sent;
  std::optional<core::Error> error;
  for (;;) {
    auto result = next_result(conn, deadline);
    if (!result) return core::fail(result.error());
    if (!*result) break;
    if (libpq().resultStatus(result->get()) != PGRES_COMMAND_OK && !error) {
      error = result_failure(result->get()).error();
    }
  }
  if (error) return core::fail(*error);
  return {};
}

std::vector<std::string> column_names(const PGresult* result) {
  std::vector<std::string> names;
  const int count = libpq().nfields(result);
  names.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) names.emplace_back(libpq().fname(result, i));
  return names;
}

Row row_values(const PGresult* result) {
  Row row;
  const int count = libpq().nfields(result);
  row.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (libpq().getisnull(result, 0, i)) {
      row.emplace_back(std::nullopt);
    } else {
      row.emplace_back(std::string(libpq().getvalue(result, 0, i),
                                   static_cast<std::size_t>(libpq().getlength(result, 0, i))));
    }
  }
  return row;
}

}  // namespace

core::FailureKind failure_kind_of_sqlstate(std::string_view sqlstate) noexcept {
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "28") return FailureKind::auth;
  if (sqlstate == "57014") return FailureKind::timeout;
  if (cls == "08" || sqlstate.substr(0, 4) == "57P0") return FailureKind::network;
  if (sqlstate == "3D000") return FailureKind::not_found;
  if (cls == "58" || cls == "XX") return FailureKind::io;
  return FailureKind::invalid_input;
}

core::FailureKind failure_kind_of_connection_error(std::string_view message,
                                                   bool needs_password) noexcept {
  if (needs_password || contains(message, "password authentication failed") ||
      contains(message, "authentication failed for user") ||
      contains(message, "no password supplied") || contains(message, "no pg_hba.conf entry") ||
      (contains(message, "role \"") && contains(message, "does not exist"))) {
    return FailureKind::auth;
  }
  if (contains(message, "timeout expired")) return FailureKind::timeout;
  if (contains(message, "database \"") && contains(message, "does not exist")) {
    return FailureKind::not_found;
  }
  return FailureKind::network;
}

std::string one_line(std::string_view message) {
  std::string out;
  bool blank = false;
  for (const char c : message) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

PostgresSource::PostgresSource(std::string name, std::string conninfo,
                               std::optional<core::Secret> password)
    : name_(std::move(name)), conninfo_(std::move(conninfo)), password_(std::move(password)) {}

core::Result<void> PostgresSource::run(std::string_view sql,
                                       const std::optional<core::Secret>& password, RowSink& sink,
                                       const core::Deadline& deadline) const {
  if (deadline.expired()) {
    return core::fail(FailureKind::timeout, "the deadline passed before the query started");
  }
  if (sql.find('\0') != std::string_view::npos) {
    return core::fail(FailureKind::invalid_input, "the SQL holds a NUL character");
  }
  if (const auto& loaded = load_libpq(); !loaded) return core::fail(loaded.error());
  const core::Secret* use_password = password ? &*password : (password_ ? &*password_ : nullptr);
  auto conn = connect(conninfo_, use_password, deadline);
  if (!conn) return core::fail(conn.error());
  PGconn* db = conn->get();
  // Non-blocking sends too, so that no write waits past the deadline (flush() does the waiting).
  if (libpq().setnonblocking(db, 1) != 0) return connection_failure(db);

  if (!deadline.is_never()) {
    // The server stops the statement itself at the deadline (SQLSTATE 57014), so a slow query
    // ends with the server's word rather than a dropped connection.
    const std::string set =
        "SET statement_timeout = " + std::to_string(std::max(1, deadline.remaining_ms(INT_MAX)));
    if (auto done = run_command(db, set.c_str(), deadline); !done) return done;
  }

  // The extended protocol takes exactly one statement, like the SQLite source.
  const std::string text(sql);
  if (libpq().sendQueryParams(db, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    return connection_failure(db);
  }
  if (libpq().setSingleRowMode(db) != 1) {
    return core::fail(FailureKind::internal, "libpq refused single-row mode");
  }
  if (auto sent = flush(db, deadline); !sent) return sent;

  bool columns_sent = false;
  std::optional<core::Error> error;
  for (;;) {
    auto result = next_result(db, deadline);
    if (!result) return core::fail(result.error());
    if (!*result) break;
    const PGresult* res = result->get();
    switch (libpq().resultStatus(res)) {
      case PGRES_SINGLE_TUPLE:
        if (!columns_sent) {
          columns_sent = true;
          if (auto sent = sink.columns(column_names(res)); !sent) return sent;
        }
        if (auto sent = sink.row(row_values(res)); !sent) return sent;
        break;
      case PGRES_TUPLES_OK:  // the end of the rows (and all of an empty answer)
      case PGRES_COMMAND_OK:
        if (!columns_sent) {
          columns_sent = true;
          if (auto sent = sink.columns(column_names(res)); !sent) return sent;
        }
        break;
      case PGRES_EMPTY_QUERY:
        if (!error) error = core::Error{FailureKind::invalid_input, "no SQL statement to run", {}};
        break;
      default:
        if (!error) error = result_failure(res).error();
        break;
    }
  }
  if (error) return core::fail(*error);
  return {};
}

}  // namespace gwprobe::gateway::datasource
