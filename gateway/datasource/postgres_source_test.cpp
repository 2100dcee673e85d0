// The PostgreSQL data source against a real throwaway server on 127.0.0.1: rows as text, the
// failure kinds (auth, network, invalid_input, timeout) with the server's own words and never a
// password, sealed passwords, streaming with an early stop, parallel runs. The error mapping
// is also table-tested without a server.
#include "gateway/datasource/postgres_source.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "gateway/datasource/postgres_test_server.hpp"
#include "gateway/datasource/test_support.hpp"
#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::datasource {
namespace {

using core::FailureKind;
using testing::CollectingSink;
using testing::PostgresTestServer;
using namespace std::chrono_literals;

class PostgresSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (auto reason = PostgresTestServer::unavailable_reason()) {
      skip_reason_ = new std::string(*reason);
      return;
    }
    server_ = new PostgresTestServer();
    password_ = new std::string("pw-" + protocol::hex_encode(protocol::random_bytes(12)));
    auto started = server_->init_and_start();
    if (!started) {
      start_error_ = new std::string(started.error().message);
      return;
    }
    auto seeded = server_->psql(
        "postgres",
        "CREATE ROLE gateway LOGIN PASSWORD '" + *password_ +
            "';"
            "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, amount numeric(10,2),"
            " note text, data bytea);"
            "INSERT INTO items VALUES (1, 'item-1', 1.25, NULL, '\\x00ff'::bytea),"
            " (2, 'héllo', -3.50, 'two', NULL), (3, '', 0, '', ''::bytea);"
            "GRANT SELECT ON items TO gateway;");
    if (!seeded) start_error_ = new std::string(seeded.error().message);
  }
  static void TearDownTestSuite() {
    delete server_;  // pg_ctl stop -m immediate, then the scratch directory goes
    server_ = nullptr;
    delete password_;
    delete skip_reason_;
    delete start_error_;
    password_ = skip_reason_ = start_error_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_) {
      GTEST_SKIP() << "\n*** SKIPPING the PostgreSQL data-source tests: " << *skip_reason_
                   << " ***\n";
    }
    ASSERT_EQ(start_error_, nullptr)
        << "the throwaway PostgreSQL server did not start: " << *start_error_;
  }

  static PostgresSource source(std::optional<std::string> password) {
    return PostgresSource(
        "orders", server_->conninfo("postgres", "gateway"),
        password ? std::optional<core::Secret>(core::Secret(*password)) : std::nullopt);
  }
  static core::Result<void> run(const DataSource& source, std::string_view sql, RowSink& sink,
                                core::Deadline deadline = core::Deadline::after(60s)) {
    return source.run(sql, std::nullopt, sink, deadline);
  }

  static inline PostgresTestServer* server_ = nullptr;
  static inline std::string* password_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
  static inline std::string* start_error_ = nullptr;
};

TEST_F(PostgresSourceTest, SendsColumnsThenRowsAsTheServersText) {
  CollectingSink sink;
  auto done =
      run(source(*password_), "SELECT id, name, amount, note, data FROM items ORDER BY id", sink);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(sink.columns_calls, 1);
  EXPECT_EQ(sink.column_names, (std::vector<std::string>{"id", "name", "amount", "note", "data"}));
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0], (Row{"1", "item-1", "1.25", std::nullopt, "\\x00ff"}));
  EXPECT_EQ(sink.rows[1], (Row{"2", "héllo", "-3.50", "two", std::nullopt}));
  EXPECT_EQ(sink.rows[2], (Row{"3", "", "0.00", "", "\\x"}));
}

TEST_F(PostgresSourceTest, AnEmptyResultStillSendsItsColumns) {
  CollectingSink sink;
  ASSERT_TRUE(run(source(*password_), "SELECT id, name FROM items WHERE id < 0", sink));
  EXPECT_EQ(sink.columns_calls, 1);
  EXPECT_EQ(sink.column_names, (std::vector<std::string>{"id", "name"}));
  EXPECT_TRUE(sink.rows.empty());
}

TEST_F(PostgresSourceTest, TheQuerysPasswordOverridesTheConfiguredOne) {
  CollectingSink sink;
  const auto configured_wrong = source("not-the-password");
  auto done = configured_wrong.run("SELECT 1 AS one", core::Secret(*password_), sink,
                                   core::Deadline::after(60s));
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(sink.rows, (std::vector<Row>{{"1"}}));
}

TEST_F(PostgresSourceTest, AWrongPasswordIsAuthAndNeverInTheMessage) {
  const std::string wrong = "Wrong-" + *password_;
  CollectingSink sink;
  auto done = run(source(wrong), "SELECT 1", sink);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::auth) << done.error().message;
  EXPECT_NE(done.error().message.find("password authentication failed for user \"gateway\""),
            std::string::npos)
      << done.error().message;
  EXPECT_EQ(done.error().describe().find(wrong), std::string::npos);
  EXPECT_EQ(done.error().describe().find(*password_), std::string::npos);
  EXPECT_EQ(done.error().message.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(sink.columns_calls, 0);
}

TEST_F(PostgresSourceTest, NoPasswordAtAllIsAuth) {
  CollectingSink sink;
  auto done = run(source(std::nullopt), "SELECT 1", sink);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::auth) << done.error().message;
}

TEST_F(PostgresSourceTest, BadSqlIsInvalidInputWithTheServersMessage) {
  CollectingSink sink;
  auto missing = run(source(*password_), "SELECT * FROM nope", sink);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(missing.error().message, "relation \"nope\" does not exist");
  EXPECT_EQ(missing.error().cause, "SQLSTATE 42P01");

  auto syntax = run(source(*password_), "SELEC 1", sink);
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(syntax.error().message, "syntax error at or near \"SELEC\"");
  EXPECT_EQ(syntax.error().cause, "SQLSTATE 42601");

  auto denied = run(source(*password_), "DELETE FROM items", sink);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(denied.error().message, "permission denied for table items");
}

TEST_F(PostgresSourceTest, OneStatementPerQuery) {
  CollectingSink sink;
  auto two = run(source(*password_), "SELECT 1; SELECT 2", sink);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().kind, FailureKind::invalid_input);
  auto empty = run(source(*password_), "", sink);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, FailureKind::invalid_input);
}

TEST_F(PostgresSourceTest, AStatementStillRunningAtTheDeadlineIsATimeout) {
  CollectingSink sink;
  auto done = run(source(*password_), "SELECT pg_sleep(60)", sink, core::Deadline::after(1500ms));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::timeout) << done.error().message;
}

TEST_F(PostgresSourceTest, StreamsRowsAndStopsWhenTheSinkFails) {
  CollectingSink sink(/*stop_after=*/5);
  auto done =
      run(source(*password_), "SELECT i, 'row ' || i FROM generate_series(1, 5000000) i", sink);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().kind, FailureKind::cancelled);
  EXPECT_EQ(done.error().message, "the client went away");
  ASSERT_EQ(sink.rows.size(), 5u);
  EXPECT_EQ(sink.rows[4], (Row{"5", "row 5"}));
}

TEST_F(PostgresSourceTest, RunsSideBySideOnSeveralThreads) {
  const auto shared = source(*password_);
  std::vector<CollectingSink> sinks(4);
  std::vector<core::Result<void>> results(4);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < sinks.size(); ++t) {
      threads.emplace_back(
          [&, t] { results[t] = run(shared, "SELECT id FROM items ORDER BY id", sinks[t]); });
    }
  }
  for (std::size_t t = 0; t < sinks.size(); ++t) {
    EXPECT_TRUE(results[t]) << results[t].error().message;
    EXPECT_EQ(sinks[t].rows.size(), 3u);
  }
}

TEST_F(PostgresSourceTest, ASealedPasswordInTheConfigOpensWithTheGatewayKey) {
  auto pair = protocol::generate_gateway_key();
  ASSERT_TRUE(pair);
  auto key = protocol::GatewayKey::from_pem(pair->private_pem);
  ASSERT_TRUE(key);
  auto sealed = protocol::seal(key->public_pem(), core::Secret(*password_));
  ASSERT_TRUE(sealed);
  const DataSourceConfig config{"orders", "postgres", "", server_->conninfo("postgres", "gateway"),
                                *sealed};

  auto opened = open_datasource(config, &*key);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ((*opened)->name(), "orders");
  EXPECT_EQ((*opened)->kind(), "postgres");
  CollectingSink sink;
  auto done = run(**opened, "SELECT count(*) FROM items", sink);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(sink.rows, (std::vector<Row>{{"3"}}));

  auto without_key = open_datasource(config, nullptr);
  ASSERT_FALSE(without_key);
  EXPECT_EQ(without_key.error().kind, FailureKind::invalid_input);

  auto other = protocol::generate_gateway_key();
  auto other_key = protocol::GatewayKey::from_pem(other->private_pem);
  auto wrong_key = open_datasource(config, &*other_key);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().kind, FailureKind::auth);
  EXPECT_EQ(wrong_key.error().message.find(*password_), std::string::npos);
}

// Last in the suite by name order is not relied upon: the server is started again at the end.
TEST_F(PostgresSourceTest, AStoppedServerIsANetworkFailureThatSaysRefused) {
  const auto stopped = source(*password_);
  ASSERT_TRUE(server_->stop());
  CollectingSink sink;
  auto done = run(stopped, "SELECT 1", sink);
  EXPECT_FALSE(done);
  if (!done) {
    EXPECT_EQ(done.error().kind, FailureKind::network) << done.error().message;
    EXPECT_NE(done.error().message.find("refused"), std::string::npos) << done.error().message;
    EXPECT_EQ(done.error().message.find('\n'), std::string::npos);
  }
  ASSERT_TRUE(server_->start()) << "restarting the server for the other tests";
}

TEST(PostgresFailureKind, MapsSqlstates) {
  const std::pair<const char*, FailureKind> cases[] = {
      {"28P01", FailureKind::auth},
      {"28000", FailureKind::auth},
      {"57014", FailureKind::timeout},
      {"08006", FailureKind::network},
      {"08001", FailureKind::network},
      {"57P01", FailureKind::network},
      {"57P03", FailureKind::network},
      {"3D000", FailureKind::not_found},
      {"42P01", FailureKind::invalid_input},
      {"42601", FailureKind::invalid_input},
      {"42501", FailureKind::invalid_input},
      {"22012", FailureKind::invalid_input},
      {"25006", FailureKind::invalid_input},
      {"58030", FailureKind::io},
      {"XX000", FailureKind::io},
  };
  for (const auto& [sqlstate, kind] : cases) {
    EXPECT_EQ(failure_kind_of_sqlstate(sqlstate), kind) << sqlstate;
  }
}

TEST(PostgresFailureKind, MapsConnectionMessages) {
  const std::pair<const char*, FailureKind> cases[] = {
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: password authentication "
       "failed for user \"gateway\"",
       FailureKind::auth},
      {"connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL: no pg_hba.conf entry "
       "for host \"10.0.0.9\", user \"gateway\", database \"orders\", no encryption",
       FailureKind::auth},
      {"FATAL: role \"nobody\" does not exist", FailureKind::auth},
      {"fe_sendauth: no password supplied", FailureKind::auth},
      {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused Is the server "
       "running on that host and accepting TCP/IP connections?",
       FailureKind::network},
      {"could not translate host name \"db.invalid\" to address: Name or service not known",
       FailureKind::network},
      {"connection to server at \"10.9.9.9\", port 5432 failed: timeout expired",
       FailureKind::timeout},
      {"FATAL: database \"nope\" does not exist", FailureKind::not_found},
  };
  for (const auto& [message, kind] : cases) {
    EXPECT_EQ(failure_kind_of_connection_error(message, false), kind) << message;
  }
  EXPECT_EQ(failure_kind_of_connection_error("anything", true), FailureKind::auth);
}

TEST(PostgresOneLine, JoinsLinesAndCollapsesBlanks) {
  EXPECT_EQ(one_line("connection to server failed: Connection refused\n\tIs the server running "
                     "on that host?\n"),
            "connection to server failed: Connection refused Is the server running on that host?");
  EXPECT_EQ(one_line("FATAL:  password authentication failed"),
            "FATAL: password authentication failed");
  EXPECT_EQ(one_line(""), "");
}

}  // namespace
}  // namespace gwprobe::gateway::datasource
