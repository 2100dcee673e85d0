// The e2e probe: sender upgrade through the relay, the query request, and the answer stream
// judged by AnswerReader.
#include "probes/e2e/e2e_probe.hpp"

#include <exception>
#include <string>
#include <utility>

#include "core/duration.hpp"
#include "gateway/protocol/crypto.hpp"
#include "probes/e2e/query_answer.hpp"
#include "probes/websocket/websocket_probe.hpp"

namespace gwprobe::probes::e2e {

namespace {

namespace protocol = gateway::protocol;
using core::Diagnosis;
using core::Status;
using websocket::ConnectionEvent;
using websocket::EndKind;

/// Request to first answer: how long the gateway and its database took to start answering.
constexpr std::string_view kQueryPhase = "query";

/// The URL without its query: the endpoint, not this connection (its sb-hc-id is a per-connection
/// tracking id, recorded in ws_url).
std::string without_query(const std::string& url) {
  return url.substr(0, url.find('?'));
}

/// The sender's path with a fresh sb-hc-id (the connection's tracking id): a plan made once is
/// run many times (`watch`), and each connection is its own.
std::string with_fresh_id(const std::string& path) {
  constexpr std::string_view kId = "sb-hc-id=";
  const auto at = path.find(kId);
  if (at == std::string::npos) return path;
  const auto start = at + kId.size();
  const auto end = path.find('&', start);
  return path.substr(0, start) + protocol::random_guid() +
         (end == std::string::npos ? std::string() : path.substr(end));
}

/// A rejected upgrade answered by the relay (not a proxy) says which relay failure it was.
void rejudge_rejected_upgrade(core::ProbeResult& result, const std::string& url,
                              const ProbeContext& context) {
  if (result.diagnosis == Diagnosis::ws_upgrade_denied &&
      result.fact(websocket::fact::http_status) == nullptr) {
    // No HTTP answer at all. The relay holds a sender until a gateway accepts it, so a deadline
    // spent waiting for the upgrade is a gateway that never accepted.
    if (context.deadline.expired() && !context.cancel.cancelled()) {
      core::set_verdict(result, Diagnosis::relay_no_listener,
                        url +
                            ": the relay held the connection and no gateway accepted it before the "
                            "deadline");
    }
    return;
  }
  const auto* status = result.fact(websocket::fact::http_status);
  if (status == nullptr || result.fact_text(websocket::fact::answered_by) == "proxy") return;
  const auto* code = std::get_if<std::int64_t>(status);
  if (code == nullptr) return;
  std::string reason = result.fact_text(websocket::fact::status_line);
  const auto space = reason.find(' ', reason.find(' ') + 1);
  reason = space == std::string::npos ? std::string() : reason.substr(space + 1);
  if (auto verdict = judge_relay_status(static_cast<int>(*code), reason)) {
    core::set_verdict(result, verdict->diagnosis, url + ": " + verdict->message);
  }
}

QueryExchange exchange(const core::Target& target, const E2eOptions& options,
                       const ProbeContext& context) {
  QueryExchange out;
  auto& result = out.result;
  result.kind = std::string(E2eOptions::kind);
  result.target = target.to_string();
  if (auto valid = validate(options); !valid) {
    core::set_verdict(result, Diagnosis::probe_error,
                      "invalid e2e options: " + valid.error().message);
    return out;
  }
  if (!options.datasource.empty()) result.set_fact(fact::datasource, options.datasource);

  websocket::WebSocketOptions sender = options.websocket;
  sender.path = with_fresh_id(sender.path);
  websocket::WebSocketGroup group;
  const auto id = websocket::open_websocket(target, sender, context, group, result);
  const std::string url = without_query(result.fact_text(websocket::fact::url));
  result.set_fact(fact::relay_url, url);
  if (!id) {
    rejudge_rejected_upgrade(result, url, context);
    return out;
  }

  protocol::QueryRequest request;
  request.id = options.request_id.empty() ? protocol::random_guid() : options.request_id;
  request.datasource = options.datasource;
  request.sql = options.sql;
  request.sealed_credentials = options.sealed_credentials;
  AnswerReader reader(request.id, options.keep_rows);

  group.watch(*id);
  group.send_text(*id, protocol::serialize(protocol::QueryMessage(request)));
  const auto sent = core::SteadyClock::now();
  std::optional<core::SteadyClock::time_point> first_answer;
  bool cancelled = false;
  while (!reader.finished()) {
    if (context.cancel.cancelled()) {
      cancelled = true;
      break;
    }
    if (context.deadline.expired()) {
      reader.timed_out();
      break;
    }
    for (const auto& e : group.wait(context.deadline.when(), context.cancel)) {
      if (e.kind == ConnectionEvent::Kind::message) {
        if (!first_answer) first_answer = e.at;
        reader.feed(e.detail);
      } else if (e.kind == ConnectionEvent::Kind::ended) {
        reader.connection_ended(e.end.kind == EndKind::close_frame ? e.close_code : 0,
                                describe_end(e));
      }
      if (reader.finished()) break;
    }
  }
  const auto now = core::SteadyClock::now();
  result.set_phase(kQueryPhase, (first_answer ? *first_answer : now) - sent);
  if (first_answer) result.set_phase(core::phase::transfer, now - *first_answer);
  if (group.is_open(*id)) group.close(*id);

  result.set_fact(fact::rows, static_cast<std::int64_t>(reader.rows_received()));
  result.set_fact(fact::bytes, static_cast<std::int64_t>(reader.bytes_received()));
  if (!reader.columns().empty()) result.set_fact(fact::columns, reader.columns());
  if (reader.state() == AnswerReader::State::verified) {
    result.set_fact(fact::sha256, reader.sha256());
  }
  if (const auto& error = reader.gateway_error()) {
    result.set_fact(fact::gateway_error,
                    std::string(protocol::to_string(error->stage)) + ": " + error->message);
  }
  if (cancelled) {
    core::set_verdict(
        result, Diagnosis::probe_cancelled,
        url + ": cancelled after " + std::to_string(reader.rows_received()) + " rows");
    return out;
  }
  core::set_verdict(result, reader.verdict().diagnosis, url + ": " + reader.verdict().message);
  if (reader.state() == AnswerReader::State::verified) {
    out.columns = reader.columns();
    out.rows = reader.rows();
    out.row_count = reader.rows_received();
    out.sha256 = reader.sha256();
  }
  return out;
}

}  // namespace

QueryExchange exchange_query(const core::Target& target, const E2eOptions& options,
                             const ProbeContext& context) noexcept {
  try {
    return exchange(target, options, context);
  } catch (const std::exception& e) {
    QueryExchange failed;
    try {
      failed.result.kind = std::string(E2eOptions::kind);
      failed.result.message = std::string("internal error in the e2e probe: ") + e.what();
    } catch (...) {
    }
    return failed;
  } catch (...) {
    return {};
  }
}

core::ProbeResult run_e2e_probe(const core::Target& target, const E2eOptions& options,
                                const ProbeContext& context) noexcept {
  E2eOptions without_rows = options;
  without_rows.keep_rows = 0;
  return exchange_query(target, without_rows, context).result;
}

}  // namespace gwprobe::probes::e2e
