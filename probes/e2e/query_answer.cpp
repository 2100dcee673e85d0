// Judging a query's answer stream and its endings.
#include "probes/e2e/query_answer.hpp"

#include <type_traits>
#include <utility>
#include <variant>

namespace gwprobe::probes::e2e {

namespace protocol = gateway::protocol;
using core::Diagnosis;

namespace {

constexpr int kPolicyViolation = 1008;  // RFC 6455; the relay's "token expired or invalid"

std::string rows_text(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " row" : " rows");
}

}  // namespace

std::optional<QueryVerdict> judge_relay_status(int status, std::string_view reason) {
  const std::string answer = "the relay answered " + std::to_string(status) +
                             (reason.empty() ? std::string() : " " + std::string(reason));
  switch (status) {
    case 401:
    case 403:
      return QueryVerdict{Diagnosis::relay_auth_failed,
                          answer +
                              ": the Send token was refused (wrong rule, key, path or "
                              "expired)"};
    case 404:
      return QueryVerdict{Diagnosis::relay_no_listener,
                          answer + ": no gateway is listening on this path"};
    case 502:
      return QueryVerdict{Diagnosis::relay_no_listener,
                          answer + ": the gateway's listener went away before the rendezvous"};
    case 503:
      return QueryVerdict{Diagnosis::relay_no_listener,
                          answer +
                              ": the gateways on this path are busy or the relay is "
                              "shutting down"};
    case 504:
      return QueryVerdict{Diagnosis::relay_no_listener,
                          answer + ": no gateway accepted the connection in time"};
    default:
      return std::nullopt;
  }
}

QueryVerdict judge_early_end(int close_code, std::string_view how, bool columns_seen,
                             std::uint64_t rows_received) {
  if (close_code == kPolicyViolation) {
    return {Diagnosis::relay_auth_failed,
            "the connection was " + std::string(how) + ": the relay refused or expired the token"};
  }
  std::string when = columns_seen ? "after " + rows_text(rows_received) + " and before the trailer"
                                  : "before any answer to the query";
  return {Diagnosis::e2e_result_corrupt, "the connection was " + std::string(how) + " " + when +
                                             " (the relay or the gateway went away mid-answer)"};
}

AnswerReader::AnswerReader(std::string request_id, std::size_t keep_rows)
    : id_(std::move(request_id)), keep_rows_(keep_rows) {
  verdict_ = {Diagnosis::e2e_result_corrupt, "no trailer yet"};
}

void AnswerReader::fail(Diagnosis diagnosis, std::string message) {
  state_ = State::failed;
  verdict_ = {diagnosis, std::move(message)};
}

AnswerReader::State AnswerReader::feed(std::string_view text) {
  if (finished()) return state_;
  bytes_ += text.size();
  auto parsed = protocol::parse_query_message(text);
  if (!parsed) {
    fail(Diagnosis::e2e_result_corrupt,
         "after " + rows_text(rows_received()) +
             ", a message that is not a query answer: " + parsed.error().message);
    return state_;
  }
  const auto wrong_id = [&](const std::string& id) {
    if (id == id_) return false;
    fail(Diagnosis::e2e_result_corrupt, "an answer for request \"" + id +
                                            "\" arrived on the connection of request \"" + id_ +
                                            "\"");
    return true;
  };
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, protocol::QueryRequest>) {
          fail(Diagnosis::e2e_result_corrupt, "the gateway sent a query instead of an answer");
        } else if constexpr (std::is_same_v<T, protocol::QueryColumns>) {
          if (wrong_id(m.id)) return;
          if (state_ != State::waiting_for_columns) {
            fail(Diagnosis::e2e_result_corrupt, "a second column list arrived");
            return;
          }
          columns_ = m.names;
          state_ = State::reading_rows;
        } else if constexpr (std::is_same_v<T, protocol::QueryRows>) {
          if (wrong_id(m.id)) return;
          if (state_ != State::reading_rows) {
            fail(Diagnosis::e2e_result_corrupt, "rows arrived before the column list");
            return;
          }
          for (const auto& row : m.rows) {
            if (row.size() != columns_.size()) {
              fail(Diagnosis::e2e_result_corrupt, "row " + std::to_string(rows_received() + 1) +
                                                      " has " + std::to_string(row.size()) +
                                                      " values for " +
                                                      std::to_string(columns_.size()) + " columns");
              return;
            }
            digest_.add(row);
            if (rows_.size() < keep_rows_) rows_.push_back(row);
          }
        } else if constexpr (std::is_same_v<T, protocol::QueryTrailer>) {
          if (wrong_id(m.id)) return;
          if (state_ != State::reading_rows) {
            fail(Diagnosis::e2e_result_corrupt, "the trailer arrived before the column list");
            return;
          }
          if (m.rows != rows_received()) {
            fail(Diagnosis::e2e_result_corrupt, "the trailer says " + rows_text(m.rows) + " but " +
                                                    rows_text(rows_received()) + " arrived");
            return;
          }
          const std::string digest = sha256();
          if (m.sha256 != digest) {
            fail(Diagnosis::e2e_result_corrupt, rows_text(m.rows) + " arrived but their SHA-256 " +
                                                    digest + " differs from the trailer's " +
                                                    m.sha256);
            return;
          }
          state_ = State::verified;
          verdict_ = {Diagnosis::ok, rows_text(m.rows) + ", sha256 verified"};
        } else if constexpr (std::is_same_v<T, protocol::QueryError>) {
          if (wrong_id(m.id)) return;
          error_ = m;
          fail(Diagnosis::e2e_query_failed, "the gateway reports a " +
                                                std::string(protocol::to_string(m.stage)) +
                                                " failure: " + m.message);
        }
      },
      *parsed);
  return state_;
}

void AnswerReader::connection_ended(int close_code, std::string_view how) {
  if (finished()) return;
  auto verdict =
      judge_early_end(close_code, how, state_ != State::waiting_for_columns, rows_received());
  fail(verdict.diagnosis, std::move(verdict.message));
}

void AnswerReader::timed_out() {
  if (finished()) return;
  if (state_ == State::waiting_for_columns) {
    fail(Diagnosis::e2e_query_failed,
         "the gateway accepted the connection but did not answer the query before the deadline");
    return;
  }
  fail(Diagnosis::e2e_result_corrupt, "the answer stopped after " + rows_text(rows_received()) +
                                          " without a trailer before the deadline");
}

}  // namespace gwprobe::probes::e2e
