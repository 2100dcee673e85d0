// The answer to a query, judged frame by frame, and what each way a query can end means: pure
// (no sockets), so every row of the classification is a table test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnosis.hpp"
#include "gateway/protocol/query_messages.hpp"

namespace gwprobe::probes::e2e {

/// How a query ended: OK only for a verified trailer.
struct QueryVerdict {
  core::Diagnosis diagnosis = core::Diagnosis::probe_error;
  std::string message;  ///< one line, without the relay URL (callers add it)
};

/// The sender's upgrade was answered with `status` (not 101) by the relay (not a proxy): 401/403
/// -> RELAY_AUTH_FAILED (the Send token), 404 -> RELAY_NO_LISTENER (no gateway on the path),
/// 502/503/504 -> RELAY_NO_LISTENER (listeners gone, busy, or none accepted in time); nullopt for
/// any other status (the WebSocket verdict stands).
std::optional<QueryVerdict> judge_relay_status(int status, std::string_view reason);

/// The connection ended before the query was answered in full. `close_code` is the WebSocket close
/// code (0 when the connection ended without a close frame; `how` words it). 1008 ->
/// RELAY_AUTH_FAILED (the relay refused or expired the token); anything else ->
/// E2E_RESULT_CORRUPT saying how many rows had arrived: a partial result is never a success.
QueryVerdict judge_early_end(int close_code, std::string_view how, bool columns_seen,
                             std::uint64_t rows_received);

/// Reads the gateway's answer messages in order, checks each against the protocol (columns first,
/// rows of the right width, the request's id, a trailer whose count and SHA-256 match what
/// arrived) and keeps the first `keep_rows` rows.
class AnswerReader {
 public:
  enum class State { waiting_for_columns, reading_rows, verified, failed };

  AnswerReader(std::string request_id, std::size_t keep_rows);

  /// Judges one text message; returns the state after it. After verified or failed, further
  /// messages are ignored.
  State feed(std::string_view text);
  /// The connection ended now (see judge_early_end); a no-op once verified or failed.
  void connection_ended(int close_code, std::string_view how);
  /// The deadline passed first: E2E_QUERY_FAILED before any answer (a hung query), else
  /// E2E_RESULT_CORRUPT (the stream stopped mid-answer).
  void timed_out();

  State state() const { return state_; }
  bool finished() const { return state_ == State::verified || state_ == State::failed; }
  /// The verdict once finished (before: E2E_RESULT_CORRUPT "no trailer yet").
  const QueryVerdict& verdict() const { return verdict_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<gateway::protocol::Row>& rows() const { return rows_; }
  std::uint64_t rows_received() const { return digest_.rows(); }
  std::uint64_t bytes_received() const { return bytes_; }
  /// The digest of the rows received (hex), what the trailer is checked against.
  std::string sha256() const { return digest_.hex(); }
  /// The gateway's QueryError, when it sent one.
  const std::optional<gateway::protocol::QueryError>& gateway_error() const { return error_; }

 private:
  void fail(core::Diagnosis diagnosis, std::string message);

  std::string id_;
  std::size_t keep_rows_;
  State state_ = State::waiting_for_columns;
  QueryVerdict verdict_;
  std::vector<std::string> columns_;
  std::vector<gateway::protocol::Row> rows_;
  gateway::protocol::RowDigest digest_;
  std::uint64_t bytes_ = 0;
  std::optional<gateway::protocol::QueryError> error_;
};

}  // namespace gwprobe::probes::e2e
