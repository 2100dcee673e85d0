// The idle ladder on a ManualClock against scripted paths: a FIN/RST cutter, a blackhole, a
// reset answering the ping, no cutter at all; the bracket, how the connection died, the early
// finish, progress, cancel and the deadline. No test waits for real time.
#include "probes/idle/ladder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace gwprobe::probes::idle {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

constexpr Duration kRtt = 1ms;
constexpr Duration kPongTimeout = 2s;
constexpr Duration kProgressEvery = 1s;

/// A path that cuts connections idle for `cut` (never when cut is zero), in the manner given.
enum class Cutter { none, fin, rst, blackhole, rst_on_ping };

class ScriptedPath final : public LadderIo {
 public:
  ScriptedPath(core::ManualClock& clock, Cutter cutter, Duration cut)
      : clock_(clock), cutter_(cutter), cut_(cut) {}

  void open(std::size_t rung) { last_[rung] = clock_.now(); }

  void ping(std::size_t rung) override {
    pings_.push_back(rung);
    const auto idle = clock_.now() - last_.at(rung);
    const bool dead = cutter_ != Cutter::none && idle >= cut_;
    if (!dead) {
      pending_.push_back({rung, RungEvent::Kind::pong, clock_.now() + kRtt});
    } else if (cutter_ == Cutter::rst_on_ping) {
      pending_.push_back({rung, RungEvent::Kind::ended, clock_.now() + kRtt, EndKind::rst});
    }
    // fin/rst cutters already ended the connection; a blackhole answers nothing.
  }

  void close(std::size_t rung) override { closed_.push_back(rung); }

  std::vector<RungEvent> wait_until(TimePoint when, const core::CancelToken& cancel) override {
    // The next thing the path does: a scheduled answer, or a cut of a silent connection.
    std::optional<RungEvent> next;
    for (const auto& e : pending_) {
      if (!next || e.at < next->at) next = e;
    }
    if (cutter_ == Cutter::fin || cutter_ == Cutter::rst) {
      for (const auto& [rung, last] : last_) {
        if (cut_rungs_.count(rung) != 0 || is_closed(rung) || pinged(rung)) continue;
        const TimePoint at = last + cut_;
        if (!next || at < next->at) {
          next = RungEvent{rung, RungEvent::Kind::ended, at,
                           cutter_ == Cutter::fin ? EndKind::fin : EndKind::rst};
        }
      }
    }
    if (!next || next->at > when) {
      clock_.sleep_until(when, cancel);
      return {};
    }
    clock_.sleep_until(next->at, cancel);
    if (next->kind == RungEvent::Kind::ended) cut_rungs_.insert({next->rung, true});
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const RungEvent& e) {
                                    return e.rung == next->rung && e.at == next->at;
                                  }),
                   pending_.end());
    if (is_closed(next->rung)) return {};
    return {*next};
  }

  const std::vector<std::size_t>& pings() const { return pings_; }
  const std::vector<std::size_t>& closed() const { return closed_; }

 private:
  bool is_closed(std::size_t rung) const {
    return std::find(closed_.begin(), closed_.end(), rung) != closed_.end();
  }
  bool pinged(std::size_t rung) const {
    return std::find(pings_.begin(), pings_.end(), rung) != pings_.end();
  }

  core::ManualClock& clock_;
  Cutter cutter_;
  Duration cut_;
  std::map<std::size_t, TimePoint> last_;
  std::map<std::size_t, bool> cut_rungs_;
  std::vector<RungEvent> pending_;
  std::vector<std::size_t> pings_;
  std::vector<std::size_t> closed_;
};

struct Run {
  LadderResult result;
  bool finished = false;
  Duration took{};
  std::vector<LadderProgress> progress;
};

Run run(Cutter cutter, Duration cut, Duration required = 5s, std::size_t rungs = 8,
        Duration budget = 1h) {
  core::ManualClock clock;
  ScriptedPath path(clock, cutter, cut);
  IdleLadder ladder(ladder_holds(required, default_margin(required), rungs), kPongTimeout);
  const auto begin = clock.now();
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    path.open(i);
    ladder.start(i, clock.now());
  }
  Run out;
  out.finished = run_ladder(
      ladder, path, clock, core::CancelToken(), begin + budget,
      [&](const LadderProgress& p) { out.progress.push_back(p); }, kProgressEvery);
  out.result = ladder.result();
  out.took = clock.now() - begin;
  return out;
}

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(LadderHolds, SplitTheRequirementEvenlyAndAddOneRungAboveIt) {
  const auto holds = ladder_holds(300s, default_margin(300s), 8);
  ASSERT_EQ(holds.size(), 8u);
  EXPECT_NEAR(seconds(holds[0]), 42.857, 0.001);
  EXPECT_NEAR(seconds(holds[3]), 171.428, 0.001);
  EXPECT_EQ(holds[6], 300s);                      // the requirement itself is proven by one rung
  EXPECT_EQ(holds[7], 330s);                      // and the margin above it
  EXPECT_EQ(ladder_holds(5s, 1s, 1).size(), 2u);  // at least two rungs
  EXPECT_EQ(default_margin(300s), 30s);
  EXPECT_EQ(default_margin(5s), 1s);
}

TEST(IdleLadder, AFinCutterIsMeasuredAsItHappensAndTheRunEndsThere) {
  const auto r = run(Cutter::fin, 3s);
  ASSERT_TRUE(r.finished);
  ASSERT_TRUE(r.result.cut_at.has_value());
  EXPECT_EQ(*r.result.cut_at, 3s);
  EXPECT_TRUE(r.result.measured);
  EXPECT_EQ(r.result.how, EndKind::fin);
  ASSERT_TRUE(r.result.survived.has_value());
  EXPECT_NEAR(seconds(*r.result.survived), 2.857, 0.001);  // the bracket [2.857 s, 3 s] holds 3 s
  EXPECT_FALSE(r.result.inconsistent);
  // Total time ~ the cut, not the longest hold (6 s) nor a sum of holds.
  EXPECT_LT(r.took, 3s + kPongTimeout);
  int redundant = 0;
  for (const auto& rung : r.result.rungs) redundant += rung.state == Rung::State::redundant;
  EXPECT_EQ(redundant, 3);  // 3.57, 4.29, 5 and 6 s: one died at 3 s, three were not needed
}

TEST(IdleLadder, AResetCutterSaysRst) {
  const auto r = run(Cutter::rst, 3s);
  ASSERT_TRUE(r.result.cut_at.has_value());
  EXPECT_EQ(r.result.how, EndKind::rst);
  EXPECT_TRUE(r.result.measured);
}

TEST(IdleLadder, ABlackholeIsBracketedByTheHoldsAroundIt) {
  const auto r = run(Cutter::blackhole, 3s);
  ASSERT_TRUE(r.finished);
  ASSERT_TRUE(r.result.cut_at.has_value());
  EXPECT_NEAR(seconds(*r.result.cut_at), 3.571, 0.001);
  EXPECT_NEAR(seconds(*r.result.survived), 2.857, 0.001);
  EXPECT_FALSE(r.result.measured);
  EXPECT_EQ(r.result.how, EndKind::blackhole);
  EXPECT_EQ(to_string(r.result.how), "blackhole");
  // The first unanswered ping settles it: no waiting for the 6 s rung.
  EXPECT_LT(r.took, 3572ms + kPongTimeout + 1ms);
}

TEST(IdleLadder, AResetInAnswerToThePingMeansTheFlowWasAlreadyGone) {
  const auto r = run(Cutter::rst_on_ping, 3s);
  ASSERT_TRUE(r.result.cut_at.has_value());
  EXPECT_NEAR(seconds(*r.result.cut_at), 3.571, 0.001);
  EXPECT_EQ(r.result.how, EndKind::rst);
  EXPECT_FALSE(r.result.measured);
  EXPECT_LT(r.took, 3600ms);
}

TEST(IdleLadder, WithoutACutterEveryRungSurvivesAndTheRunTakesTheLongestHold) {
  const auto r = run(Cutter::none, 0s, 300s);
  ASSERT_TRUE(r.finished);
  EXPECT_FALSE(r.result.cut_at.has_value());
  EXPECT_EQ(*r.result.survived, 330s);
  for (const auto& rung : r.result.rungs) EXPECT_EQ(rung.state, Rung::State::alive);
  EXPECT_GE(r.took, 330s);
  EXPECT_LT(r.took, 331s);  // parallel holds: the longest one, not their sum
}

TEST(IdleLadder, ACutJustAboveTheRequirementIsBracketedAboveIt) {
  const auto r = run(Cutter::fin, 5500ms, 5s);
  ASSERT_TRUE(r.result.cut_at.has_value());
  EXPECT_EQ(*r.result.cut_at, 5500ms);
  EXPECT_EQ(*r.result.survived, 5s);
}

TEST(IdleLadder, ProgressCountsDownAndReportsTheCutOnceSeen) {
  const auto r = run(Cutter::blackhole, 3s);
  ASSERT_GE(r.progress.size(), 3u);
  EXPECT_EQ(r.progress.front().rungs, 8u);
  EXPECT_EQ(r.progress.front().resolved, 0u);
  EXPECT_FALSE(r.progress.front().cut.has_value());
  EXPECT_GT(r.progress.front().remaining, r.progress[1].remaining);
  for (std::size_t i = 1; i < r.progress.size(); ++i) {
    EXPECT_GE(r.progress[i].elapsed, r.progress[i - 1].elapsed);
    EXPECT_LE(r.progress[i].elapsed - r.progress[i - 1].elapsed, kProgressEvery);
  }
}

TEST(IdleLadder, TheDeadlineStopsAnUnfinishedLadder) {
  const auto r = run(Cutter::none, 0s, 300s, 8, 100s);
  EXPECT_FALSE(r.finished);
  EXPECT_EQ(r.took, 100s);
  EXPECT_NEAR(seconds(*r.result.survived), 85.714, 0.001);  // the rungs that had their turn
}

TEST(IdleLadder, CancelStopsAtOnce) {
  core::ManualClock clock;
  ScriptedPath path(clock, Cutter::none, 0s);
  IdleLadder ladder(ladder_holds(300s, 30s, 4), kPongTimeout);
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    path.open(i);
    ladder.start(i, clock.now());
  }
  core::CancelToken cancel;
  cancel.cancel();
  EXPECT_FALSE(run_ladder(ladder, path, clock, cancel, clock.now() + 1h, {}, kProgressEvery));
  EXPECT_TRUE(path.pings().empty());
}

TEST(IdleLadder, ARungThatSurvivesLongerThanTheCutMarksTheResultInconsistent) {
  IdleLadder ladder({1s, 2s, 3s}, kPongTimeout);
  const TimePoint t0{};
  for (std::size_t i = 0; i < 3; ++i) ladder.start(i, t0);
  EXPECT_THAT(ladder.due(t0 + 1s), ElementsAre(0u));
  ladder.on_pong(0, t0 + 1s);
  EXPECT_THAT(ladder.due(t0 + 2s), ElementsAre(1u));
  EXPECT_THAT(ladder.due(t0 + 3s), ElementsAre(2u));
  ladder.on_pong(2, t0 + 3s);                  // 3 s survived ...
  ladder.on_end(1, t0 + 3s, EndKind::rst, 0);  // ... while the 2 s one was reset
  ASSERT_TRUE(ladder.finished());
  const auto r = ladder.result();
  EXPECT_EQ(*r.cut_at, 2s);
  EXPECT_EQ(*r.survived, 1s);
  EXPECT_TRUE(r.inconsistent);
}

TEST(IdleLadder, ADroppedRungDoesNotHoldTheLadderOpen) {
  IdleLadder ladder({1s, 2s}, kPongTimeout);
  ladder.start(0, TimePoint{});
  ladder.drop(1);
  EXPECT_EQ(ladder.due(TimePoint{} + 1s).size(), 1u);
  ladder.on_pong(0, TimePoint{} + 1s);
  EXPECT_TRUE(ladder.finished());
  EXPECT_EQ(ladder.rung(1).state, Rung::State::redundant);
}

TEST(IdleLadder, ALatePingCountsTheIdleTimeActuallyHeld) {
  IdleLadder ladder({1s, 2s}, kPongTimeout);
  const TimePoint t0{};
  ladder.start(0, t0);
  ladder.start(1, t0);
  EXPECT_THAT(ladder.due(t0 + 1500ms), ElementsAre(0u));  // half a second late
  ladder.on_pong(0, t0 + 1501ms);
  EXPECT_EQ(*ladder.result().survived, 1500ms);
}

TEST(IdleLadder, AMeasuredCutCountsFromTheEarliestThePathCanHaveSeenTheLastExchange) {
  IdleLadder ladder({1s, 5s}, kPongTimeout);
  const TimePoint t0{};
  // The first pong arrived 20 ms after the first ping left: the path's timer may have started
  // anywhere in between.
  ladder.start(0, t0 + 20ms, t0);
  ladder.start(1, t0 + 20ms, t0);
  ladder.due(t0 + 1020ms);
  ladder.on_pong(0, t0 + 1021ms);
  ladder.on_end(1, t0 + 3010ms, EndKind::fin, 0);
  const auto r = ladder.result();
  EXPECT_EQ(*r.cut_at, 3010ms);    // upper bound: from the ping
  EXPECT_EQ(*r.survived, 1000ms);  // lower bound: from the pong
}

TEST(IdleLadder, ACloseFrameKeepsItsCode) {
  IdleLadder ladder({1s, 2s}, kPongTimeout);
  ladder.start(0, TimePoint{});
  ladder.start(1, TimePoint{});
  const auto redundant = ladder.on_end(0, TimePoint{} + 500ms, EndKind::close_frame, 1001);
  EXPECT_THAT(redundant, ElementsAre(1u));
  const auto r = ladder.result();
  EXPECT_EQ(r.how, EndKind::close_frame);
  EXPECT_EQ(r.close_code, 1001);
  EXPECT_EQ(*r.cut_at, 500ms);
  EXPECT_FALSE(r.survived.has_value());
}

}  // namespace
}  // namespace gwprobe::probes::idle
