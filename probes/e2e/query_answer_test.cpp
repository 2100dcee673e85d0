// AnswerReader and the classification of relay answers and early ends, as tables.
#include "probes/e2e/query_answer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gwprobe::probes::e2e {
namespace {

namespace protocol = gateway::protocol;
using core::Diagnosis;

constexpr const char* kId = "req-1";

std::string columns(std::vector<std::string> names, std::string id = kId) {
  return protocol::serialize(protocol::QueryColumns{std::move(id), std::move(names)});
}
std::string rows(std::vector<protocol::Row> values, std::string id = kId) {
  return protocol::serialize(protocol::QueryRows{std::move(id), std::move(values)});
}
std::string trailer(const std::vector<protocol::Row>& sent, std::uint64_t claimed_rows,
                    std::string id = kId) {
  protocol::RowDigest digest;
  for (const auto& r : sent) digest.add(r);
  return protocol::serialize(protocol::QueryTrailer{std::move(id), claimed_rows, digest.hex()});
}

const std::vector<protocol::Row> kRows = {{"1", "alpha"}, {"2", std::nullopt}, {"3", "gamma"}};

TEST(JudgeRelayStatus, MapsEachRelayAnswerToItsDiagnosis) {
  struct Case {
    int status;
    std::optional<Diagnosis> diagnosis;
  };
  const std::vector<Case> cases = {
      {401, Diagnosis::relay_auth_failed},
      {403, Diagnosis::relay_auth_failed},
      {404, Diagnosis::relay_no_listener},
      {502, Diagnosis::relay_no_listener},
      {503, Diagnosis::relay_no_listener},
      {504, Diagnosis::relay_no_listener},
      {400, std::nullopt},
      {426, std::nullopt},
      {500, std::nullopt},
      {200, std::nullopt},
  };
  for (const auto& c : cases) {
    const auto verdict = judge_relay_status(c.status, "Reason");
    ASSERT_EQ(verdict.has_value(), c.diagnosis.has_value()) << c.status;
    if (verdict) {
      EXPECT_EQ(verdict->diagnosis, *c.diagnosis) << c.status;
      EXPECT_NE(verdict->message.find(std::to_string(c.status)), std::string::npos)
          << verdict->message;
    }
  }
}

TEST(JudgeEarlyEnd, PolicyCloseIsAuthAnythingElseIsCorruptWithTheRowCount) {
  EXPECT_EQ(judge_early_end(1008, "closed with 1008", true, 5).diagnosis,
            Diagnosis::relay_auth_failed);
  const auto mid = judge_early_end(1011, "closed with 1011", true, 5);
  EXPECT_EQ(mid.diagnosis, Diagnosis::e2e_result_corrupt);
  EXPECT_NE(mid.message.find("after 5 rows"), std::string::npos) << mid.message;
  const auto fin = judge_early_end(0, "closed (FIN)", false, 0);
  EXPECT_EQ(fin.diagnosis, Diagnosis::e2e_result_corrupt);
  EXPECT_NE(fin.message.find("before any answer"), std::string::npos) << fin.message;
}

TEST(AnswerReader, VerifiesAGoodAnswerAndKeepsTheAskedForRows) {
  AnswerReader reader(kId, 2);
  EXPECT_EQ(reader.feed(columns({"id", "name"})), AnswerReader::State::reading_rows);
  EXPECT_EQ(reader.feed(rows({kRows[0], kRows[1]})), AnswerReader::State::reading_rows);
  EXPECT_EQ(reader.feed(rows({kRows[2]})), AnswerReader::State::reading_rows);
  EXPECT_EQ(reader.feed(trailer(kRows, 3)), AnswerReader::State::verified);
  EXPECT_EQ(reader.verdict().diagnosis, Diagnosis::ok);
  EXPECT_EQ(reader.verdict().message, "3 rows, sha256 verified");
  EXPECT_EQ(reader.rows_received(), 3u);
  ASSERT_EQ(reader.rows().size(), 2u);
  EXPECT_EQ(reader.rows()[1][1], std::nullopt);
  EXPECT_EQ(reader.columns(), (std::vector<std::string>{"id", "name"}));
  EXPECT_GT(reader.bytes_received(), 0u);
}

TEST(AnswerReader, AnEmptyResultVerifiesToo) {
  AnswerReader reader(kId, 10);
  reader.feed(columns({"x"}));
  EXPECT_EQ(reader.feed(trailer({}, 0)), AnswerReader::State::verified);
  EXPECT_EQ(reader.verdict().message, "0 rows, sha256 verified");
}

TEST(AnswerReader, EveryBrokenStreamIsCorruptNeverASuccess) {
  const std::vector<protocol::Row> altered = {{"1", "alpha"}, {"2", std::nullopt}, {"3", "GAMMA"}};
  struct Case {
    std::string name;
    std::vector<std::string> frames;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"digest mismatch", {columns({"id", "name"}), rows(altered), trailer(kRows, 3)}, "SHA-256"},
      {"fewer rows than the trailer says",
       {columns({"id", "name"}), rows({kRows[0], kRows[1]}), trailer(kRows, 3)},
       "the trailer says 3 rows but 2 rows arrived"},
      {"rows before columns", {rows(kRows)}, "rows arrived before the column list"},
      {"trailer before columns", {trailer({}, 0)}, "before the column list"},
      {"a wrong id", {columns({"id", "name"}), rows(kRows, "other")}, "\"other\""},
      {"not a query message", {columns({"id", "name"}), "{\"nonsense\":1}"}, "not a query answer"},
      {"not JSON", {"{{{"}, "not a query answer"},
      {"a row of the wrong width", {columns({"id"}), rows({kRows[0]})}, "2 values for 1 columns"},
      {"two column lists", {columns({"a", "b"}), columns({"a", "b"})}, "second column list"},
  };
  for (const auto& c : cases) {
    AnswerReader reader(kId, 10);
    for (const auto& f : c.frames) reader.feed(f);
    EXPECT_EQ(reader.state(), AnswerReader::State::failed) << c.name;
    EXPECT_EQ(reader.verdict().diagnosis, Diagnosis::e2e_result_corrupt) << c.name;
    EXPECT_NE(reader.verdict().message.find(c.says), std::string::npos)
        << c.name << ": " << reader.verdict().message;
  }
}

TEST(AnswerReader, AQueryErrorIsQueryFailedWithTheDatabasesOwnMessage) {
  AnswerReader reader(kId, 10);
  reader.feed(protocol::serialize(
      protocol::QueryError{kId, protocol::QueryStage::database, "no such table: missing"}));
  EXPECT_EQ(reader.state(), AnswerReader::State::failed);
  EXPECT_EQ(reader.verdict().diagnosis, Diagnosis::e2e_query_failed);
  EXPECT_NE(reader.verdict().message.find("database"), std::string::npos);
  EXPECT_NE(reader.verdict().message.find("no such table: missing"), std::string::npos);
  ASSERT_TRUE(reader.gateway_error().has_value());
  EXPECT_EQ(reader.gateway_error()->stage, protocol::QueryStage::database);
}

TEST(AnswerReader, TheConnectionEndingMidStreamSaysHowManyRowsArrived) {
  AnswerReader reader(kId, 10);
  reader.feed(columns({"id", "name"}));
  reader.feed(rows({kRows[0], kRows[1]}));
  reader.connection_ended(0, "reset (RST)");
  EXPECT_EQ(reader.verdict().diagnosis, Diagnosis::e2e_result_corrupt);
  EXPECT_NE(reader.verdict().message.find("after 2 rows"), std::string::npos)
      << reader.verdict().message;
  // Nothing after the verdict changes it.
  reader.feed(trailer({kRows[0], kRows[1]}, 2));
  EXPECT_EQ(reader.state(), AnswerReader::State::failed);
}

TEST(AnswerReader, TheDeadlineBeforeAnyAnswerIsAFailedQueryAfterRowsACorruptResult) {
  AnswerReader silent(kId, 10);
  silent.timed_out();
  EXPECT_EQ(silent.verdict().diagnosis, Diagnosis::e2e_query_failed);
  AnswerReader stopped(kId, 10);
  stopped.feed(columns({"id", "name"}));
  stopped.feed(rows({kRows[0]}));
  stopped.timed_out();
  EXPECT_EQ(stopped.verdict().diagnosis, Diagnosis::e2e_result_corrupt);
  EXPECT_NE(stopped.verdict().message.find("after 1 row "), std::string::npos)
      << stopped.verdict().message;
}

}  // namespace
}  // namespace gwprobe::probes::e2e
