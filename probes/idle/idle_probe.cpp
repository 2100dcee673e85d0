// run_idle_probe: connections, the first round trip on each, then the ladder on the real clock.
#include "probes/idle/idle_probe.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "core/duration.hpp"
#include "probes/idle/ladder.hpp"
#include "probes/websocket/websocket_probe.hpp"

namespace gwprobe::probes::idle {

namespace {

using core::Diagnosis;
using core::Status;
using websocket::ConnectionEvent;
using websocket::WebSocketGroup;

constexpr std::size_t kMinConnections = 2;
constexpr std::size_t kMaxConnections = 32;
/// How often the live countdown is refreshed.
constexpr auto kProgressEvery = std::chrono::seconds(1);
constexpr double kMillisPerSecond = 1000.0;

/// Seconds rounded to milliseconds, as facts carry them.
double seconds(Duration d) {
  return std::round(std::chrono::duration<double>(d).count() * kMillisPerSecond) / kMillisPerSecond;
}

/// "3.001 s" (milliseconds shown, unlike format_duration, because brackets can be tight).
std::string precise(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", seconds(d));
  return buf;
}

std::string how_text(EndKind how, int close_code) {
  switch (how) {
    case EndKind::fin:
      return "closed (FIN)";
    case EndKind::rst:
      return "reset (RST)";
    case EndKind::close_frame:
      return "closed with WebSocket close code " + std::to_string(close_code);
    case EndKind::blackhole:
      return "silently dropped (no answer to the ping)";
    case EndKind::aborted:
    case EndKind::failed:
      break;
  }
  return "failed";
}

std::string how_fact(EndKind how, int close_code) {
  std::string text(websocket::to_string(how));
  if (how == EndKind::close_frame) text += " " + std::to_string(close_code);
  return text;
}

std::string describe(const Rung& r) {
  std::string text = precise(r.hold) + ": " + std::string(to_string(r.state));
  if (r.state == Rung::State::died) {
    text += " (" + how_fact(r.how, r.close_code) + " after " + precise(r.idle_at_end) + ")";
  } else if (r.state == Rung::State::failed) {
    text += " (" + how_fact(r.how, r.close_code) + " in answer to the ping)";
  }
  return text;
}

/// The ladder's view of the WebSocket connections.
class GroupIo final : public LadderIo {
 public:
  GroupIo(WebSocketGroup& group, std::map<std::size_t, std::size_t> rung_of_connection)
      : group_(group), rung_of_(std::move(rung_of_connection)) {
    for (const auto& [connection, rung] : rung_of_) connection_of_[rung] = connection;
  }

  void ping(std::size_t rung) override {
    group_.ping(connection_of_.at(rung), "gwprobe idle " + std::to_string(rung));
  }
  void close(std::size_t rung) override { group_.close(connection_of_.at(rung)); }

  std::vector<RungEvent> wait_until(TimePoint when, const core::CancelToken& cancel) override {
    std::vector<RungEvent> out;
    for (const auto& e : group_.wait(when, cancel)) {
      const auto it = rung_of_.find(e.id);
      if (it == rung_of_.end()) continue;
      if (e.kind == ConnectionEvent::Kind::pong) {
        out.push_back({it->second, RungEvent::Kind::pong, e.at});
      } else if (e.kind == ConnectionEvent::Kind::ended) {
        out.push_back({it->second, RungEvent::Kind::ended, e.at, e.end.kind, e.close_code});
      } else {
        ++peer_traffic_;  // a message or a ping from the far end: the path was not silent
      }
    }
    return out;
  }

  int peer_traffic() const { return peer_traffic_; }

 private:
  WebSocketGroup& group_;
  std::map<std::size_t, std::size_t> rung_of_;
  std::map<std::size_t, std::size_t> connection_of_;
  int peer_traffic_ = 0;
};

core::ProbeResult probe(const core::Target& target, const IdleOptions& options,
                        const ProbeContext& context) {
  core::ProbeResult result;
  result.kind = std::string(IdleOptions::kind);
  result.target = target.to_string();
  if (options.connections < kMinConnections || options.connections > kMaxConnections) {
    core::set_verdict(
        result, Diagnosis::probe_error,
        "the idle ladder needs 2 to 32 connections, not " + std::to_string(options.connections));
    return result;
  }
  if (options.required.count() <= 0) {
    core::set_verdict(result, Diagnosis::probe_error, "the idle requirement must be more than 0 s");
    return result;
  }
  const Duration required = options.required;
  const Duration margin =
      options.margin.count() > 0 ? Duration(options.margin) : default_margin(required);
  const auto holds = ladder_holds(required, margin, options.connections);
  result.set_fact(fact::required, seconds(required));
  if (!context.deadline.is_never() &&
      context.deadline.remaining() < holds.back() + Duration(options.pong_timeout)) {
    core::set_verdict(result, Diagnosis::probe_error,
                      "the check's deadline (" +
                          core::format_duration(context.deadline.remaining()) +
                          ") is shorter than the idle ladder (" +
                          core::format_duration(holds.back() + Duration(options.pong_timeout)) +
                          "): give it more time (--timeout)");
    return result;
  }

  // The connections, one after the other, each proven with a first round trip right away: its
  // silence starts at that pong (and, as the path saw it, no earlier than that ping).
  WebSocketGroup group;
  IdleLadder ladder(holds, options.pong_timeout);
  std::map<std::size_t, std::size_t> rung_of_connection;
  std::vector<std::string> setup_failures;
  const auto setup_event = [&](const ConnectionEvent& e) {
    // An earlier connection's news while later ones are being opened.
    const auto it = rung_of_connection.find(e.id);
    if (it == rung_of_connection.end() || e.kind != ConnectionEvent::Kind::ended) return;
    for (const auto r : ladder.on_end(it->second, e.at, e.end.kind, e.close_code)) {
      for (const auto& [connection, rung] : rung_of_connection) {
        if (rung == r) group.close(connection);
      }
    }
  };
  for (std::size_t i = 0; i < ladder.size() && !context.cancel.cancelled(); ++i) {
    core::ProbeResult scratch;
    auto& into = i == 0 ? result : scratch;
    const auto id = websocket::open_websocket(target, options.websocket, context, group, into);
    if (!id) {
      if (i == 0) return result;  // the path does not work at all: the first one says why
      setup_failures.push_back("connection " + std::to_string(i + 1) + ": " +
                               std::string(core::to_code(scratch.diagnosis)) + " " +
                               scratch.message);
      ladder.drop(i);
      continue;
    }
    rung_of_connection[*id] = i;
    group.watch(*id);
    const auto ping_sent = core::SteadyClock::now();
    group.ping(*id, "gwprobe idle start");
    const auto pong_by = context.deadline.capped_after(options.pong_timeout);
    bool settled = false;
    while (!settled && !pong_by.expired() && !context.cancel.cancelled()) {
      for (const auto& e : group.wait(pong_by.when(), context.cancel)) {
        if (e.id != *id) {
          setup_event(e);
        } else if (e.kind == ConnectionEvent::Kind::pong) {
          ladder.start(i, e.at, ping_sent);
          settled = true;
        } else if (e.kind == ConnectionEvent::Kind::ended) {
          setup_failures.push_back("connection " + std::to_string(i + 1) +
                                   " ended before its first pong: " + e.end.detail);
          settled = true;
        }
      }
    }
    if (ladder.rung(i).state == Rung::State::waiting) {
      if (!settled)
        setup_failures.push_back("connection " + std::to_string(i + 1) + ": no first pong");
      ladder.drop(i);
    }
  }
  if (context.cancel.cancelled()) {
    core::set_verdict(result, Diagnosis::probe_cancelled,
                      "cancelled while opening the idle connections");
    return result;
  }
  std::size_t holding = 0;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    holding += ladder.rung(i).state != Rung::State::redundant;
  }
  if (!setup_failures.empty()) result.set_fact("idle_setup_failures", setup_failures);
  if (holding == 0 || (ladder.finished() && !ladder.result().cut_at)) {
    core::set_verdict(
        result, Diagnosis::ws_frames_blocked,
        "the upgrade works but no connection answered its first ping: WebSocket frames do not "
        "pass, so idle timeouts cannot be measured");
    return result;
  }

  GroupIo io(group, rung_of_connection);
  core::SteadyClockSource clock;
  const auto stop_at = context.deadline.is_never() ? TimePoint::max() : context.deadline.when();
  const bool finished = run_ladder(
      ladder, io, clock, context.cancel, stop_at,
      [&](const IdleProgress& p) {
        if (options.progress) options.progress(p);
      },
      kProgressEvery);

  const auto found = ladder.result();
  std::vector<std::string> rungs;
  rungs.reserve(found.rungs.size());
  for (const auto& r : found.rungs) rungs.push_back(describe(r));
  result.set_fact(fact::rungs, rungs);
  if (io.peer_traffic() > 0) {
    result.set_fact(fact::peer_traffic,
                    std::to_string(io.peer_traffic()) +
                        " frames from the far end during the holds: the connections were not "
                        "completely idle (a server that pings keeps a path's idle timer reset)");
  }
  if (found.survived) result.set_fact(fact::survived, seconds(*found.survived));
  const std::string where = target.to_string();
  if (found.cut_at) {
    const Duration low = found.survived.value_or(Duration::zero());
    result.set_fact(fact::cut_seconds, seconds(low));
    result.set_fact(fact::cut_how, how_fact(found.how, found.close_code));
    result.set_fact(fact::bracket, precise(low) + " - " + precise(*found.cut_at));
    result.set_fact(fact::bracket_low, seconds(low));
    result.set_fact(fact::bracket_high, seconds(*found.cut_at));
    if (found.measured) result.set_fact(fact::measured, seconds(*found.cut_at));
    if (found.inconsistent) {
      result.set_fact("idle_inconsistent",
                      std::string("a connection held longer than the cut survived: the path "
                                  "does not cut on idle time alone"));
    }
  }
  if (!finished && context.cancel.cancelled()) {
    core::set_verdict(result, Diagnosis::probe_cancelled,
                      "cancelled while holding idle connections");
    return result;
  }
  const std::string cut_text =
      found.cut_at ? (found.measured ? "after " + precise(*found.cut_at)
                                     : "between " + precise(found.survived.value_or(Duration{})) +
                                           " and " + precise(*found.cut_at)) +
                         ", " + how_text(found.how, found.close_code)
                   : std::string();
  if (found.cut_at && *found.cut_at <= required) {
    core::set_verdict(result, Diagnosis::idle_cut,
                      "idle connections to " + where + " are cut " + cut_text +
                          "; the gateway needs " + precise(required) +
                          (found.survived ? " (longest survived: " + precise(*found.survived) + ")"
                                          : " (none survived the shortest hold, " +
                                                precise(holds.front()) + ")"));
    return result;
  }
  if (!finished) {
    core::set_verdict(
        result, Diagnosis::probe_error,
        "the check's deadline ended the idle ladder before every connection was tried" +
            (found.survived ? "; idle survived up to " + precise(*found.survived) : std::string()));
    return result;
  }
  if (found.cut_at) {
    core::set_verdict(result, Diagnosis::ok,
                      "idle connections to " + where + " survive the required " +
                          precise(required) + "; cut " + cut_text + " (above the requirement)");
  } else {
    core::set_verdict(result, Diagnosis::ok,
                      std::to_string(holding) + " idle connections to " + where +
                          " survived up to " + precise(found.survived.value_or(Duration{})) +
                          " (the gateway needs " + precise(required) + ")");
  }
  return result;
}

}  // namespace

std::chrono::milliseconds longest_wait(const IdleOptions& options) {
  const Duration required = options.required;
  const Duration margin =
      options.margin.count() > 0 ? Duration(options.margin) : default_margin(required);
  return std::chrono::ceil<std::chrono::milliseconds>(required + margin) + options.pong_timeout;
}

core::ProbeResult run_idle_probe(const core::Target& target, const IdleOptions& options,
                                 const ProbeContext& context) noexcept {
  try {
    return probe(target, options, context);
  } catch (...) {
    core::ProbeResult failed;
    try {
      failed.message = "internal error in the idle probe";
    } catch (...) {
    }
    return failed;
  }
}

}  // namespace gwprobe::probes::idle
