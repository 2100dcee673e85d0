// serve_query with a fake data source and a vector of frames: batching limits,
// digest, every failure stage, the busy limit and a client that goes away.
#include "gateway/agent/query_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace gwprobe::gateway::agent {
namespace {

using protocol::QueryStage;
using ::testing::HasSubstr;
using ::testing::Not;

/// Answers every query with `rows` (or with `failure` after `fail_after` rows).
class FakeSource : public datasource::DataSource {
 public:
  FakeSource(std::string name, std::vector<protocol::Row> rows)
      : name_(std::move(name)), rows_(std::move(rows)) {}

  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "sqlite"; }
  core::Result<void> run(std::string_view sql, const std::optional<core::Secret>& password,
                         datasource::RowSink& sink, const core::Deadline&) const override {
    last_sql = std::string(sql);
    last_password = password ? password->reveal() : "";
    if (on_run) on_run();
    if (failure && fail_after == 0) return core::fail(*failure);
    if (auto c = sink.columns({"id", "name"}); !c) return c;
    std::size_t n = 0;
    for (const auto& r : rows_) {
      if (failure && n == fail_after) return core::fail(*failure);
      if (auto sent = sink.row(r); !sent) return sent;
      ++n;
    }
    return {};
  }

  std::optional<core::Error> failure;
  std::size_t fail_after = 0;
  std::function<void()> on_run;
  mutable std::string last_sql;
  mutable std::string last_password;

 private:
  std::string name_;
  std::vector<protocol::Row> rows_;
};

class VectorSink : public FrameSink {
 public:
  core::Result<void> send(std::string frame) override {
    if (frames.size() >= accept_limit) {
      return core::fail(core::FailureKind::network, "the client went away");
    }
    frames.push_back(std::move(frame));
    return {};
  }
  std::vector<protocol::QueryMessage> parsed() const {
    std::vector<protocol::QueryMessage> out;
    for (const auto& f : frames) out.push_back(protocol::parse_query_message(f).value());
    return out;
  }
  std::vector<std::string> frames;
  std::size_t accept_limit = static_cast<std::size_t>(-1);
};

std::vector<protocol::Row> numbered_rows(std::size_t n, std::size_t text_bytes = 4) {
  std::vector<protocol::Row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    rows.push_back(
        {std::to_string(i), i % 7 == 0 ? protocol::Value{} : std::string(text_bytes, 'a')});
  }
  return rows;
}

std::string request(std::string_view id, std::string_view source, std::string_view sql,
                    std::optional<std::string> sealed = std::nullopt) {
  return protocol::serialize(protocol::QueryRequest{std::string(id), std::string(source),
                                                    std::string(sql), std::move(sealed)});
}

struct Fixture {
  explicit Fixture(std::vector<protocol::Row> rows, std::size_t workers = 4) : slots(workers) {
    auto fake = std::make_unique<FakeSource>("sample", std::move(rows));
    source = fake.get();
    EXPECT_TRUE(sources.add(std::move(fake)).has_value());
  }
  QueryOutcome serve(const std::string& json, const SealedOpener& open_sealed = {}) {
    return serve_query(json, sources, open_sealed, slots, sink,
                       core::Deadline::after(std::chrono::seconds(10)));
  }
  DataSourceSet sources;
  FakeSource* source = nullptr;
  QuerySlots slots;
  VectorSink sink;
};

TEST(ServeQuery, ColumnsBatchesAndATrailerWhoseDigestCoversEveryRow) {
  const auto rows = numbered_rows(1234);
  Fixture f(rows);
  const auto outcome = f.serve(request("q1", "sample", "select * from sample"));
  EXPECT_TRUE(outcome.ok) << outcome.message;
  EXPECT_EQ(outcome.rows, 1234u);
  EXPECT_EQ(outcome.datasource, "sample");
  EXPECT_EQ(f.source->last_sql, "select * from sample");

  const auto frames = f.sink.parsed();
  ASSERT_GE(frames.size(), 3u);
  const auto& columns = std::get<protocol::QueryColumns>(frames.front());
  EXPECT_EQ(columns.id, "q1");
  EXPECT_EQ(columns.names, (std::vector<std::string>{"id", "name"}));
  protocol::RowDigest digest;
  std::vector<protocol::Row> received;
  for (std::size_t i = 1; i + 1 < frames.size(); ++i) {
    const auto& batch = std::get<protocol::QueryRows>(frames[i]);
    EXPECT_EQ(batch.id, "q1");
    EXPECT_LE(batch.rows.size(), protocol::kMaxBatchRows);
    for (const auto& r : batch.rows) {
      digest.add(r);
      received.push_back(r);
    }
  }
  EXPECT_EQ(frames.size(), 2u + 3u);  // 500 + 500 + 234
  EXPECT_EQ(received, rows);
  const auto& trailer = std::get<protocol::QueryTrailer>(frames.back());
  EXPECT_EQ(trailer.id, "q1");
  EXPECT_EQ(trailer.rows, 1234u);
  EXPECT_EQ(trailer.sha256, digest.hex());
}

TEST(ServeQuery, BatchesStayUnderTheByteLimitAndAHugeRowTravelsAlone) {
  auto rows = numbered_rows(40, 10000);  // ~10 kB each: six or so per 64 KiB batch
  rows.insert(rows.begin() + 5, protocol::Row{"big", std::string(100000, 'b')});
  Fixture f(rows);
  ASSERT_TRUE(f.serve(request("q", "", "select")).ok);
  const auto frames = f.sink.parsed();
  std::size_t total = 0;
  bool saw_big_alone = false;
  for (const auto& frame : frames) {
    const auto* batch = std::get_if<protocol::QueryRows>(&frame);
    if (batch == nullptr) continue;
    std::size_t bytes = 0;
    for (const auto& r : batch->rows) bytes += protocol::encoded_size(r);
    if (batch->rows.size() == 1 && batch->rows[0][0] == "big") saw_big_alone = true;
    if (batch->rows.size() > 1) {
      EXPECT_LE(bytes, protocol::kMaxBatchBytes);
    }
    total += batch->rows.size();
  }
  EXPECT_TRUE(saw_big_alone);
  EXPECT_EQ(total, rows.size());
}

TEST(ServeQuery, AnEmptyResultStillHasColumnsAndATrailer) {
  Fixture f({});
  ASSERT_TRUE(f.serve(request("e", "sample", "select")).ok);
  const auto frames = f.sink.parsed();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<protocol::QueryColumns>(frames[0]));
  const auto& trailer = std::get<protocol::QueryTrailer>(frames[1]);
  EXPECT_EQ(trailer.rows, 0u);
  EXPECT_EQ(trailer.sha256, protocol::RowDigest().hex());
}

QueryStage only_error_stage(const VectorSink& sink, std::string* message = nullptr) {
  const auto frames = sink.parsed();
  EXPECT_FALSE(frames.empty());
  const auto& error = std::get<protocol::QueryError>(frames.back());
  if (message != nullptr) *message = error.message;
  return error.stage;
}

TEST(ServeQuery, TheDatabasesOwnMessageComesBackAsStageDatabase) {
  Fixture f(numbered_rows(3));
  f.source->failure = core::Error{core::FailureKind::invalid_input, "no such table: nope", ""};
  const auto outcome = f.serve(request("bad", "sample", "select * from nope"));
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.stage, "database");
  std::string message;
  EXPECT_EQ(only_error_stage(f.sink, &message), QueryStage::database);
  EXPECT_EQ(message, "no such table: nope");
  EXPECT_EQ(std::get<protocol::QueryError>(f.sink.parsed().back()).id, "bad");
}

TEST(ServeQuery, AFailureMidStreamEndsWithAnErrorAndNoTrailer) {
  Fixture f(numbered_rows(900));
  f.source->failure = core::Error{core::FailureKind::network, "server closed the connection", ""};
  f.source->fail_after = 700;
  EXPECT_FALSE(f.serve(request("mid", "sample", "select")).ok);
  for (const auto& frame : f.sink.parsed()) {
    EXPECT_FALSE(std::holds_alternative<protocol::QueryTrailer>(frame));
  }
  EXPECT_EQ(only_error_stage(f.sink), QueryStage::database);
}

TEST(ServeQuery, MalformedOversizedAndWrongRequestsAreStageRequest) {
  Fixture f(numbered_rows(1));
  EXPECT_EQ(f.serve("{not json").stage, "request");
  EXPECT_EQ(only_error_stage(f.sink), QueryStage::request);
  f.sink.frames.clear();
  const std::string huge =
      request("h", "sample", std::string(protocol::kMaxRequestBytes + 10, 'x'));
  std::string message;
  EXPECT_EQ(f.serve(huge).stage, "request");
  EXPECT_EQ(only_error_stage(f.sink, &message), QueryStage::request);
  EXPECT_THAT(message, HasSubstr("limit"));
  f.sink.frames.clear();
  EXPECT_EQ(f.serve(protocol::serialize(protocol::QueryTrailer{"x", 1, "00"})).stage, "request");
  EXPECT_EQ(f.source->last_sql, "");  // nothing ran
}

TEST(ServeQuery, AnUnknownDataSourceIsStageDatasource) {
  Fixture f(numbered_rows(1));
  std::string message;
  EXPECT_EQ(f.serve(request("u", "orders", "select 1")).stage, "datasource");
  EXPECT_EQ(only_error_stage(f.sink, &message), QueryStage::datasource);
  EXPECT_THAT(message, HasSubstr("orders"));
}

TEST(ServeQuery, SealedCredentialsWithoutAnIdentityKeyAreStageCredentials) {
  Fixture f(numbered_rows(1));
  const auto outcome = f.serve(request("s", "sample", "select 1", "gwp-sealed-v1:AAAA"));
  EXPECT_EQ(outcome.stage, "credentials");
  std::string message;
  EXPECT_EQ(only_error_stage(f.sink, &message), QueryStage::credentials);
  EXPECT_THAT(message, Not(HasSubstr("AAAA")));
}

TEST(ServeQuery, OpenedCredentialsReachTheDataSourceAndBadOnesAreStageCredentials) {
  Fixture f(numbered_rows(1));
  const SealedOpener opener = [](std::string_view sealed) -> core::Result<core::Secret> {
    if (sealed == "gwp-sealed-v1:good") return core::Secret("s3cret-password");
    return core::fail(core::FailureKind::auth, "sealed to another gateway's key");
  };
  EXPECT_TRUE(f.serve(request("ok", "sample", "select 1", "gwp-sealed-v1:good"), opener).ok);
  EXPECT_EQ(f.source->last_password, "s3cret-password");
  f.sink.frames.clear();
  const auto outcome = f.serve(request("no", "sample", "select 1", "gwp-sealed-v1:evil"), opener);
  EXPECT_EQ(outcome.stage, "credentials");
  std::string message;
  EXPECT_EQ(only_error_stage(f.sink, &message), QueryStage::credentials);
  EXPECT_THAT(message, HasSubstr("another gateway"));
  EXPECT_THAT(message, Not(HasSubstr("evil")));
  for (const auto& frame : f.sink.frames) EXPECT_THAT(frame, Not(HasSubstr("s3cret")));
}

TEST(ServeQuery, QueriesBeyondTheWorkerLimitAreBusyAndSlotsComeBack) {
  Fixture f(numbered_rows(2), 1);
  // While the one slot is taken, a nested query (another rendezvous) is
  // refused.
  QueryOutcome nested;
  VectorSink other;
  bool nested_done = false;
  f.source->on_run = [&] {
    if (nested_done) return;
    nested_done = true;
    nested = serve_query(request("second", "sample", "select"), f.sources, {}, f.slots, other,
                         core::Deadline::after(std::chrono::seconds(5)));
  };
  EXPECT_TRUE(f.serve(request("first", "sample", "select")).ok);
  EXPECT_EQ(nested.stage, "busy");
  EXPECT_EQ(only_error_stage(other), QueryStage::busy);
  EXPECT_EQ(f.slots.in_use(), 0u);
  f.sink.frames.clear();
  EXPECT_TRUE(f.serve(request("third", "sample", "select")).ok);
}

TEST(ServeQuery, AClientThatGoesAwayStopsTheQuery) {
  Fixture f(numbered_rows(5000));
  f.sink.accept_limit = 2;  // columns and one batch, then the socket is gone
  const auto outcome = f.serve(request("gone", "sample", "select"));
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.stage, "client");
  EXPECT_LT(outcome.rows, 5000u);
  EXPECT_EQ(f.slots.in_use(), 0u);
}

TEST(DataSourceSet, TheFirstIsTheDefaultAndNamesAreUnique) {
  DataSourceSet set;
  EXPECT_EQ(set.find(""), nullptr);
  ASSERT_TRUE(set.add(std::make_unique<FakeSource>("a", std::vector<protocol::Row>{})).has_value());
  ASSERT_TRUE(set.add(std::make_unique<FakeSource>("b", std::vector<protocol::Row>{})).has_value());
  EXPECT_EQ(set.find("")->name(), "a");
  EXPECT_EQ(set.find("b")->name(), "b");
  EXPECT_EQ(set.find("c"), nullptr);
  EXPECT_FALSE(
      set.add(std::make_unique<FakeSource>("a", std::vector<protocol::Row>{})).has_value());
}

}  // namespace
}  // namespace gwprobe::gateway::agent
