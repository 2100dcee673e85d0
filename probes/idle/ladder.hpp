// The idle ladder: K connections held silent in parallel, each for its own time t_i up to the
// requirement plus a margin, then pinged; the first that fails brackets the cut. Pure schedule
// and bookkeeping (IdleLadder) plus a driver (run_ladder) over an abstract LadderIo and an
// injectable core::Clock, so all of it is tested with a ManualClock and scripted events.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/clock.hpp"
#include "probes/idle/idle_options.hpp"
#include "probes/websocket/websocket_errors.hpp"

namespace gwprobe::probes::idle {

using Duration = core::Clock::duration;
using TimePoint = core::Clock::time_point;
using websocket::EndKind;

/// The holds of a ladder of `rungs` connections: the requirement split evenly into rungs - 1
/// steps (so the requirement itself is one rung), plus one rung at requirement + margin.
/// At least 2 rungs. Sorted ascending.
std::vector<Duration> ladder_holds(Duration required, Duration margin, std::size_t rungs);

/// The default margin: 10 % of the requirement, at least one second.
Duration default_margin(Duration required);

struct Rung {
  enum class State {
    waiting,    ///< not started (its connection is not ready yet)
    holding,    ///< silent, until its hold ends
    pinging,    ///< pinged; waiting for the pong
    alive,      ///< the pong came: the connection survived `hold` idle
    died,       ///< the connection ended while silent (FIN, RST, close frame): measured
    no_answer,  ///< the ping got no pong before the pong timeout: a silent drop (blackhole)
    failed,     ///< the ping itself failed (RST to the ping: the path had dropped the flow)
    redundant,  ///< given up: a rung with a shorter hold already failed
  };
  Duration hold{};
  State state = State::waiting;
  /// When its silence started: the last exchange before it (the first pong's arrival). Holds
  /// count from here, so a hold survived is a lower bound of what the path allows.
  TimePoint started{};
  /// The earliest the path can have seen that last exchange (our first ping leaving): a cut
  /// measured from here is an upper bound.
  TimePoint quiet_from{};
  TimePoint ping_deadline{};
  /// Idle time actually held when pinged (at least `hold`: a ping may go out late).
  Duration held{};
  /// Idle time when the rung failed: for `died`, measured (from quiet_from: an upper bound);
  /// for no_answer / failed, what it had held.
  Duration idle_at_end{};
  EndKind how = EndKind::failed;
  int close_code = 0;
};

std::string_view to_string(Rung::State state) noexcept;

/// What the ladder found.
struct LadderResult {
  /// Longest idle a connection survived below the cut (the bracket's lower end; counted from
  /// the connection's last exchange, so the path allowed at least this much).
  std::optional<Duration> survived;
  /// Shortest idle at which a connection failed (the bracket's upper end; a cut seen as it
  /// happened counts from the earliest the path can have seen the last exchange).
  std::optional<Duration> cut_at;
  /// The cut was seen as it happened (FIN, RST or close frame while idle), so `cut_at` is a
  /// measurement, not just a bound.
  bool measured = false;
  EndKind how = EndKind::failed;  ///< how the first failing rung ended
  int close_code = 0;
  /// A rung held longer than `cut_at` survived: the cut is not a plain idle timeout.
  bool inconsistent = false;
  std::vector<Rung> rungs;
};

class IdleLadder {
 public:
  IdleLadder(std::vector<Duration> holds, Duration pong_timeout);

  std::size_t size() const noexcept { return rungs_.size(); }
  const Rung& rung(std::size_t i) const { return rungs_.at(i); }

  /// Rung i's silence starts at `at` (its connection's last exchange arrived then; the path may
  /// have seen it as early as `quiet_from`, default `at`).
  void start(std::size_t i, TimePoint at, std::optional<TimePoint> quiet_from = std::nullopt);
  /// Drops a rung whose connection could not be opened.
  void drop(std::size_t i);
  /// Rungs whose hold has ended by `now`: the caller pings them; they now wait for a pong.
  std::vector<std::size_t> due(TimePoint now);
  /// A pong on rung i.
  void on_pong(std::size_t i, TimePoint at);
  /// Rung i's connection ended (while silent: a measured cut; while pinging: the ping failed).
  /// Returns the rungs made redundant (the caller closes their connections).
  std::vector<std::size_t> on_end(std::size_t i, TimePoint at, EndKind how, int close_code);
  /// Pings without a pong by `now` become no_answer. Returns the rungs made redundant.
  std::vector<std::size_t> expire(TimePoint now);
  /// When something is next due (a hold ending, a pong deadline); nullopt when finished.
  std::optional<TimePoint> next_wakeup() const;
  bool finished() const;
  /// When the longest rung still in play will be resolved at the latest (for a countdown).
  std::optional<TimePoint> expected_end() const;
  LadderResult result() const;

 private:
  std::vector<std::size_t> fail(std::size_t i, Rung::State state, Duration idle, EndKind how,
                                int close_code);
  std::vector<Rung> rungs_;
  Duration pong_timeout_;
};

/// An event on a rung's connection.
struct RungEvent {
  enum class Kind { pong, ended };
  std::size_t rung = 0;
  Kind kind = Kind::pong;
  TimePoint at{};
  EndKind how = EndKind::failed;
  int close_code = 0;
};

/// What run_ladder needs from the connections.
class LadderIo {
 public:
  virtual ~LadderIo() = default;
  virtual void ping(std::size_t rung) = 0;
  virtual void close(std::size_t rung) = 0;
  /// Waits until `when` (on the ladder's clock) or until events arrive; returns them.
  virtual std::vector<RungEvent> wait_until(TimePoint when, const core::CancelToken& cancel) = 0;
};

using LadderProgress = IdleProgress;

/// Drives the ladder: pings due rungs, feeds events back, closes redundant rungs, reports
/// progress at least every `progress_every`, until every rung is resolved, `stop_at` passes
/// (the probe's deadline) or `cancel` fires. Returns false when it did not finish.
bool run_ladder(IdleLadder& ladder, LadderIo& io, core::Clock& clock,
                const core::CancelToken& cancel, TimePoint stop_at,
                const ProgressCallback& progress, Duration progress_every);

}  // namespace gwprobe::probes::idle
