// The idle ladder's schedule, bookkeeping and driver.
#include "probes/idle/ladder.hpp"

#include <algorithm>

namespace gwprobe::probes::idle {

namespace {

constexpr std::size_t kMinRungs = 2;
/// default_margin(): a tenth of the requirement...
constexpr int kMarginDivisor = 10;
/// ...but never less than this.
constexpr auto kMinMargin = std::chrono::seconds(1);

bool in_play(Rung::State s) {
  return s == Rung::State::waiting || s == Rung::State::holding || s == Rung::State::pinging;
}

bool failed_state(Rung::State s) {
  return s == Rung::State::died || s == Rung::State::no_answer || s == Rung::State::failed;
}

}  // namespace

std::vector<Duration> ladder_holds(Duration required, Duration margin, std::size_t rungs) {
  rungs = std::max(rungs, kMinRungs);
  std::vector<Duration> holds;
  holds.reserve(rungs);
  const auto steps = static_cast<Duration::rep>(rungs - 1);
  for (Duration::rep i = 1; i <= steps; ++i) holds.push_back(required * i / steps);
  holds.push_back(required + margin);
  return holds;
}

Duration default_margin(Duration required) {
  return std::max<Duration>(required / kMarginDivisor, kMinMargin);
}

std::string_view to_string(Rung::State state) noexcept {
  switch (state) {
    case Rung::State::waiting:
      return "waiting";
    case Rung::State::holding:
      return "holding";
    case Rung::State::pinging:
      return "pinging";
    case Rung::State::alive:
      return "alive";
    case Rung::State::died:
      return "died";
    case Rung::State::no_answer:
      return "no_answer";
    case Rung::State::failed:
      return "failed";
    case Rung::State::redundant:
      return "redundant";
  }
  return "failed";
}

IdleLadder::IdleLadder(std::vector<Duration> holds, Duration pong_timeout)
    : pong_timeout_(pong_timeout) {
  std::sort(holds.begin(), holds.end());
  rungs_.reserve(holds.size());
  for (const auto h : holds) {
    Rung r;
    r.hold = h;
    rungs_.push_back(r);
  }
}

void IdleLadder::start(std::size_t i, TimePoint at, std::optional<TimePoint> quiet_from) {
  auto& r = rungs_.at(i);
  if (r.state != Rung::State::waiting) return;
  r.state = Rung::State::holding;
  r.started = at;
  r.quiet_from = std::min(quiet_from.value_or(at), at);
}

void IdleLadder::drop(std::size_t i) {
  auto& r = rungs_.at(i);
  if (in_play(r.state)) r.state = Rung::State::redundant;
}

std::vector<std::size_t> IdleLadder::due(TimePoint now) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < rungs_.size(); ++i) {
    auto& r = rungs_[i];
    if (r.state != Rung::State::holding || r.started + r.hold > now) continue;
    r.state = Rung::State::pinging;
    r.held = now - r.started;
    r.ping_deadline = now + pong_timeout_;
    out.push_back(i);
  }
  return out;
}

void IdleLadder::on_pong(std::size_t i, TimePoint /*at*/) {
  auto& r = rungs_.at(i);
  if (r.state == Rung::State::pinging) r.state = Rung::State::alive;
}

std::vector<std::size_t> IdleLadder::fail(std::size_t i, Rung::State state, Duration idle,
                                          EndKind how, int close_code) {
  auto& r = rungs_.at(i);
  r.state = state;
  r.idle_at_end = idle;
  r.how = how;
  r.close_code = close_code;
  // Every connection held longer than this meets the same cut (or already has, and its pong will
  // not come): waiting for it would only prolong the run.
  std::vector<std::size_t> redundant;
  for (std::size_t j = 0; j < rungs_.size(); ++j) {
    auto& other = rungs_[j];
    const bool open = other.state == Rung::State::holding || other.state == Rung::State::pinging;
    if (!open || other.hold <= idle) continue;
    other.state = Rung::State::redundant;
    redundant.push_back(j);
  }
  return redundant;
}

std::vector<std::size_t> IdleLadder::on_end(std::size_t i, TimePoint at, EndKind how,
                                            int close_code) {
  const auto& r = rungs_.at(i);
  if (r.state == Rung::State::holding) {
    return fail(i, Rung::State::died, at - r.quiet_from, how, close_code);
  }
  if (r.state == Rung::State::pinging) {
    // The ping found the flow gone (a reset in answer to it): it was dead when pinged.
    return fail(i, Rung::State::failed, r.held, how, close_code);
  }
  return {};
}

std::vector<std::size_t> IdleLadder::expire(TimePoint now) {
  std::vector<std::size_t> redundant;
  for (std::size_t i = 0; i < rungs_.size(); ++i) {
    const auto& r = rungs_[i];
    if (r.state != Rung::State::pinging || r.ping_deadline > now) continue;
    auto more = fail(i, Rung::State::no_answer, r.held, EndKind::blackhole, 0);
    redundant.insert(redundant.end(), more.begin(), more.end());
  }
  return redundant;
}

std::optional<TimePoint> IdleLadder::next_wakeup() const {
  std::optional<TimePoint> next;
  for (const auto& r : rungs_) {
    std::optional<TimePoint> t;
    if (r.state == Rung::State::holding) t = r.started + r.hold;
    if (r.state == Rung::State::pinging) t = r.ping_deadline;
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

bool IdleLadder::finished() const {
  return std::none_of(rungs_.begin(), rungs_.end(), [](const Rung& r) { return in_play(r.state); });
}

std::optional<TimePoint> IdleLadder::expected_end() const {
  std::optional<TimePoint> end;
  for (const auto& r : rungs_) {
    std::optional<TimePoint> t;
    if (r.state == Rung::State::holding) t = r.started + r.hold + pong_timeout_;
    if (r.state == Rung::State::pinging) t = r.ping_deadline;
    if (t && (!end || *t > *end)) end = t;
  }
  return end;
}

LadderResult IdleLadder::result() const {
  LadderResult out;
  out.rungs = rungs_;
  const Rung* first_failure = nullptr;
  for (const auto& r : rungs_) {
    if (!failed_state(r.state)) continue;
    if (first_failure == nullptr || r.idle_at_end < first_failure->idle_at_end) first_failure = &r;
  }
  if (first_failure != nullptr) {
    out.cut_at = first_failure->idle_at_end;
    out.measured = first_failure->state == Rung::State::died;
    out.how = first_failure->how;
    out.close_code = first_failure->close_code;
  }
  for (const auto& r : rungs_) {
    if (r.state != Rung::State::alive) continue;
    if (out.cut_at && r.held >= *out.cut_at) {
      out.inconsistent = true;
      continue;
    }
    if (!out.survived || r.held > *out.survived) out.survived = r.held;
  }
  return out;
}

bool run_ladder(IdleLadder& ladder, LadderIo& io, core::Clock& clock,
                const core::CancelToken& cancel, TimePoint stop_at,
                const ProgressCallback& progress, Duration progress_every) {
  const TimePoint begin = clock.now();
  const auto handle = [&](const std::vector<RungEvent>& events) {
    for (const auto& e : events) {
      if (e.kind == RungEvent::Kind::pong) {
        ladder.on_pong(e.rung, e.at);
        if (ladder.rung(e.rung).state == Rung::State::alive) io.close(e.rung);  // proven
      } else {
        for (const auto r : ladder.on_end(e.rung, e.at, e.how, e.close_code)) io.close(r);
      }
    }
  };
  for (;;) {
    if (ladder.finished()) return true;
    if (cancel.cancelled()) return false;
    const TimePoint now = clock.now();
    if (now >= stop_at) return false;
    for (const auto i : ladder.due(now)) io.ping(i);
    for (const auto i : ladder.expire(now)) io.close(i);
    if (ladder.finished()) return true;
    if (progress) {
      LadderProgress p;
      p.rungs = ladder.size();
      for (std::size_t i = 0; i < ladder.size(); ++i) {
        const auto s = ladder.rung(i).state;
        if (!in_play(s)) ++p.resolved;
      }
      p.elapsed = now - begin;
      if (const auto end = ladder.expected_end(); end && *end > now) p.remaining = *end - now;
      p.cut = ladder.result().cut_at;
      progress(p);
    }
    TimePoint until = std::min(now + progress_every, stop_at);
    if (const auto wake = ladder.next_wakeup()) until = std::min(until, *wake);
    handle(io.wait_until(until, cancel));
  }
}

}  // namespace gwprobe::probes::idle
