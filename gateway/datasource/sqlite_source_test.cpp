// The SQLite data source: values in the shared text forms, columns, errors with SQLite's own
// message, read-only opening, early stop by the sink, the deadline, and parallel runs.
#include "gateway/datasource/sqlite_source.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gateway/datasource/test_support.hpp"

namespace gwprobe::gateway::datasource {
namespace {

using core::FailureKind;
using testing::CollectingSink;
using testing::ScratchDir;
using namespace std::chrono_literals;

void exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("test.db");
    exec(path_,
         "CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n TEXT);"
         "INSERT INTO t VALUES (42, 2.5, 'héllo', x'00ff10', NULL);"
         "INSERT INTO t VALUES (-9223372036854775808, 0.1, '', x'', 'x');"
         "INSERT INTO t VALUES (3, 1e300, 'a''b', NULL, NULL);");
  }
  core::Result<void> run(std::string_view sql, RowSink& sink,
                         core::Deadline deadline = core::Deadline::after(30s)) {
    return source_().run(sql, std::nullopt, sink, deadline);
  }
  SqliteSource source_() const { return SqliteSource("test", path_); }

  ScratchDir dir_{"sqlite-source"};
  std::string path_;
};

TEST_F(SqliteSourceTest, SendsColumnsThenEveryRowInTheSharedTextForms) {
  CollectingSink sink;
  auto done = run("SELECT i, r, s, b, n AS note FROM t ORDER BY rowid", sink);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(sink.columns_calls, 1);
  EXPECT_EQ(sink.column_names, (std::vector<std::string>{"i", "r", "s", "b", "note"}));
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0], (Row{"42", "2.5", "héllo", "\\x00ff10", std::nullopt}));
  EXPECT_EQ(sink.rows[1], (Row{"-9223372036854775808", "0.1", "", "\\x", "x"}));
  EXPECT_EQ(sink.rows[2], (Row{"3", "1.0e+300", "a'b", std::nullopt, std::nullopt}));
}

TEST_F(SqliteSourceTest, AnEmptyResultStillSendsItsColumns) {
  CollectingSink sink;
  ASSERT_TRUE(run("SELECT i, s FROM t WHERE i = 12345;", sink));
  EXPECT_EQ(sink.columns_calls, 1);
  EXPECT_EQ(sink.column_names, (std::vector<std::string>{"i", "s"}));
  EXPECT_TRUE(sink.rows.empty());
}

TEST_F(SqliteSourceTest, BadSqlFailsWithInvalidInputAndSqlitesOwnMessage) {
  CollectingSink sink;
  auto missing_table = run("SELECT * FROM nope", sink);
  ASSERT_FALSE(missing_table);
  EXPECT_EQ(missing_table.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(missing_table.error().message, "no such table: nope");

  auto syntax = run("SELEC 1", sink);
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(syntax.error().message, "near \"SELEC\": syntax error");
  EXPECT_EQ(sink.columns_calls, 0);
}

TEST_F(SqliteSourceTest, TheDatabaseIsReadOnly) {
  CollectingSink sink;
  auto write = run("INSERT INTO t(i) VALUES (1)", sink);
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(write.error().message, "attempt to write a readonly database");
}

TEST_F(SqliteSourceTest, OneStatementPerQueryButTrailingBlanksAndCommentsAreFine) {
  CollectingSink sink;
  EXPECT_TRUE(run("SELECT 1;  -- the answer\n ; ", sink));
  auto two = run("SELECT 1; SELECT 2", sink);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().kind, FailureKind::invalid_input);
  auto none = run("  -- nothing\n", sink);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, FailureKind::invalid_input);
  auto empty = run("", sink);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, FailureKind::invalid_input);
}

TEST_F(SqliteSourceTest, AMissingFileIsNotFoundAndIsNeverCreated) {
  const std::string missing = dir_.file("absent.db");
  SqliteSource source("absent", missing);
  CollectingSink sink;
  auto done = source.run("SELECT 1", std::nullopt, sink, core::Deadline::after(30s));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::not_found);
  EXPECT_NE(done.error().message.find(missing), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(SqliteSourceTest, AFileThatIsNotADatabaseIsAnIoError) {
  const std::string junk = dir_.file("junk.db");
  { std::ofstream(junk) << std::string(4096, 'j'); }
  SqliteSource source("junk", junk);
  CollectingSink sink;
  auto done = source.run("SELECT * FROM t", std::nullopt, sink, core::Deadline::after(30s));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::io);
  EXPECT_EQ(done.error().message, "file is not a database");
}

TEST_F(SqliteSourceTest, ASinkErrorStopsTheQueryAndIsWhatRunReturns) {
  CollectingSink sink(/*stop_after=*/2);
  auto done =
      run("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT i FROM r", sink);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::cancelled);
  EXPECT_EQ(done.error().message, "the client went away");
  EXPECT_EQ(sink.rows.size(), 2u);
}

TEST_F(SqliteSourceTest, ARunawayQueryIsInterruptedAtTheDeadline) {
  CollectingSink sink;
  auto done =
      run("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
          "SELECT count(*) FROM r",
          sink, core::Deadline::after(200ms));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::timeout);
  EXPECT_TRUE(sink.rows.empty());
}

TEST_F(SqliteSourceTest, APassedDeadlineFailsBeforeOpening) {
  CollectingSink sink;
  auto done = run("SELECT 1", sink, core::Deadline::after(-1s));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::timeout);
  EXPECT_EQ(sink.columns_calls, 0);
}

TEST_F(SqliteSourceTest, RunsSideBySideOnSeveralThreads) {
  const SqliteSource source = source_();
  std::vector<CollectingSink> sinks(4);
  std::vector<core::Result<void>> results(4);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < sinks.size(); ++t) {
      threads.emplace_back([&, t] {
        results[t] = source.run("SELECT i FROM t ORDER BY rowid", std::nullopt, sinks[t],
                                core::Deadline::after(30s));
      });
    }
  }
  for (std::size_t t = 0; t < sinks.size(); ++t) {
    EXPECT_TRUE(results[t]) << results[t].error().message;
    EXPECT_EQ(sinks[t].rows.size(), 3u);
  }
}

TEST(SqliteFailureKind, MapsResultCodes) {
  const std::pair<int, FailureKind> cases[] = {
      {SQLITE_ERROR, FailureKind::invalid_input},
      {SQLITE_READONLY, FailureKind::invalid_input},
      {SQLITE_CONSTRAINT, FailureKind::invalid_input},
      {SQLITE_TOOBIG, FailureKind::invalid_input},
      {SQLITE_BUSY, FailureKind::timeout},
      {SQLITE_BUSY_SNAPSHOT, FailureKind::timeout},
      {SQLITE_LOCKED, FailureKind::timeout},
      {SQLITE_INTERRUPT, FailureKind::timeout},
      {SQLITE_CANTOPEN, FailureKind::io},
      {SQLITE_IOERR_READ, FailureKind::io},
      {SQLITE_NOTADB, FailureKind::io},
      {SQLITE_CORRUPT, FailureKind::io},
      {SQLITE_FULL, FailureKind::io},
      {SQLITE_PERM, FailureKind::io},
      {SQLITE_AUTH, FailureKind::auth},
      {SQLITE_NOMEM, FailureKind::internal},
      {SQLITE_MISUSE, FailureKind::internal},
  };
  for (const auto& [code, kind] : cases) {
    EXPECT_EQ(failure_kind_of_sqlite(code), kind) << sqlite3_errstr(code);
  }
}

}  // namespace
}  // namespace gwprobe::gateway::datasource
