// Runner behaviour with fake probes: ordering, bounded parallelism, dependencies, cancellation.
#include "probes/runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace gwprobe::probes {
namespace {
using namespace std::chrono_literals;
using core::Diagnosis;
using core::ProbeResult;
using core::Status;

ProbeSpec spec(const std::string& id, std::chrono::milliseconds timeout = 5s,
               std::vector<std::size_t> deps = {}, bool required = true) {
  ProbeSpec s;
  s.id = id;
  s.target = core::Target{"example.test", 443};
  s.timeout = timeout;
  s.options = tcp::TcpOptions{};
  s.depends_on = std::move(deps);
  s.required = required;
  return s;
}

/// A fake probe whose behaviour is read from its id: "sleep:<ms>", "fail", "hang".
ProbeResult fake_probe(const ProbeSpec& s, const ProbeContext& c) {
  if (s.id.rfind("sleep:", 0) == 0) {
    const auto ms = std::stoi(s.id.substr(6, s.id.find('#') - 6));
    if (c.cancel.wait_for(std::chrono::milliseconds(ms))) {
      return core::make_result(Status::error, Diagnosis::probe_cancelled, "cancelled");
    }
    return core::make_result(Status::pass, Diagnosis::ok, "slept");
  }
  if (s.id.rfind("fail", 0) == 0) {
    return core::make_result(Status::fail, Diagnosis::tcp_refused, "refused");
  }
  if (s.id.rfind("hang", 0) == 0) {  // waits for its deadline, as a silent drop does
    c.cancel.wait_for(c.deadline.remaining());
    if (c.cancel.cancelled()) {
      return core::make_result(Status::error, Diagnosis::probe_cancelled, "cancelled");
    }
    return core::make_result(Status::fail, Diagnosis::tcp_filtered, "no answer");
  }
  return core::make_result(Status::pass, Diagnosis::ok, "ok");
}

RunnerOptions fake_options(std::size_t parallelism = 8) {
  RunnerOptions o;
  o.parallelism = parallelism;
  o.run_one = fake_probe;
  return o;
}

TEST(Runner, ResultsComeOutInPlanOrderWhateverOrderTheyFinishIn) {
  std::vector<ProbeSpec> plan = {spec("sleep:60#a"), spec("sleep:1#b"), spec("sleep:30#c"),
                                 spec("ok")};
  const auto outcome = run_plan(plan, fake_options());
  ASSERT_EQ(outcome.results.size(), 4u);
  for (std::size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(outcome.results[i].id, plan[i].id);
  EXPECT_FALSE(outcome.interrupted);
}

TEST(Runner, NeverRunsMoreProbesAtOnceThanTheParallelismLimit) {
  std::atomic<int> in_flight{0}, peak{0};
  auto options = fake_options(3);
  options.run_one = [&](const ProbeSpec& s, const ProbeContext& c) {
    const int now = ++in_flight;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    auto r = fake_probe(s, c);
    --in_flight;
    return r;
  };
  std::vector<ProbeSpec> plan;
  for (int i = 0; i < 12; ++i) plan.push_back(spec("sleep:10#" + std::to_string(i)));
  const auto outcome = run_plan(plan, options);
  EXPECT_EQ(outcome.results.size(), 12u);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 2);  // it did run in parallel
}

TEST(Runner, SlowProbesRunConcurrentlySoWallTimeIsNotTheirSum) {
  std::vector<ProbeSpec> plan;
  for (int i = 0; i < 20; ++i) plan.push_back(spec("sleep:100#" + std::to_string(i)));
  const auto start = std::chrono::steady_clock::now();
  run_plan(plan, fake_options(64));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);  // serial would be 2 s
}

TEST(Runner, AFailedDependencySkipsItsDependentsWithTheSameCodeAndNamesTheBlocker) {
  std::vector<ProbeSpec> plan = {spec("fail:dns"), spec("ok:tcp", 5s, {0}), spec("ok:tls", 5s, {1}),
                                 spec("ok:other")};
  const auto r = run_plan(plan, fake_options()).results;
  EXPECT_EQ(r[0].status, Status::fail);
  EXPECT_EQ(r[1].status, Status::skip);
  EXPECT_EQ(r[1].diagnosis, Diagnosis::tcp_refused);
  EXPECT_EQ(r[1].fact_text("blocked_by"), "fail:dns");
  EXPECT_NE(r[1].message.find("fail:dns"), std::string::npos);
  EXPECT_EQ(r[2].status, Status::skip);  // transitively
  EXPECT_EQ(r[2].diagnosis, Diagnosis::tcp_refused);
  EXPECT_EQ(r[3].status, Status::pass);
}

TEST(Runner, APassingDependencyReleasesItsDependents) {
  std::vector<ProbeSpec> plan = {spec("sleep:20#dns"), spec("ok:tcp", 5s, {0})};
  const auto r = run_plan(plan, fake_options()).results;
  EXPECT_EQ(r[1].status, Status::pass);
}

TEST(Runner, AFailureOnAnOptionalCheckIsAWarning) {
  std::vector<ProbeSpec> plan = {spec("fail:9350", 5s, {}, /*required=*/false)};
  const auto r = run_plan(plan, fake_options()).results;
  EXPECT_EQ(r[0].status, Status::warn);
  EXPECT_EQ(r[0].diagnosis, Diagnosis::tcp_refused);
  EXPECT_FALSE(r[0].required);
}

TEST(Runner, StampsIdEndpointKindTargetAndDuration) {
  auto s = spec("sleep:5#x");
  s.endpoint = "Azure Relay";
  const auto r = run_plan({s}, fake_options()).results;
  EXPECT_EQ(r[0].endpoint, "Azure Relay");
  EXPECT_EQ(r[0].kind, "tcp");
  EXPECT_EQ(r[0].target, "example.test:443");
  EXPECT_GE(r[0].duration, 5ms);
}

TEST(Runner, EachProbeGetsItsOwnTimeoutAsDeadline) {
  std::vector<ProbeSpec> plan = {spec("hang:1", 50ms), spec("hang:2", 300ms)};
  const auto r = run_plan(plan, fake_options()).results;
  EXPECT_EQ(r[0].diagnosis, Diagnosis::tcp_filtered);
  EXPECT_GE(r[0].duration, 50ms);
  EXPECT_LT(r[0].duration, 250ms);
  EXPECT_GE(r[1].duration, 300ms);
}

TEST(Runner, CtrlCStopsPromptlyMarkingRunningAndUnstartedChecks) {
  auto options = fake_options(2);
  std::vector<ProbeSpec> plan;
  for (int i = 0; i < 6; ++i) plan.push_back(spec("hang:" + std::to_string(i), 30s));
  std::thread interrupter([&] {
    std::this_thread::sleep_for(50ms);
    options.cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = run_plan(plan, options);
  interrupter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(outcome.interrupted);
  ASSERT_EQ(outcome.results.size(), 6u);
  int running = 0, unstarted = 0;
  for (const auto& r : outcome.results) {
    EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.id;
    (r.status == Status::error ? running : unstarted)++;
  }
  EXPECT_EQ(running, 2);
  EXPECT_EQ(unstarted, 4);
}

TEST(Runner, TheOverallDeadlineTurnsTruncatedTimeoutsIntoCancelledNotFiltered) {
  auto options = fake_options();
  options.overall = core::Deadline::after(80ms);
  std::vector<ProbeSpec> plan = {spec("hang:long", 10s), spec("ok")};
  const auto outcome = run_plan(plan, options);
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_EQ(outcome.results[0].diagnosis, Diagnosis::probe_cancelled);
  EXPECT_NE(outcome.results[0].message.find("overall deadline"), std::string::npos);
  EXPECT_EQ(outcome.results[1].status, Status::pass);
}

TEST(Runner, ReportsEachResultOnceThroughTheCallback) {
  auto options = fake_options();
  std::mutex m;
  std::vector<std::string> seen;
  std::size_t last_done = 0;
  options.on_result = [&](const ProbeResult& r, std::size_t done, std::size_t total) {
    std::lock_guard lock(m);
    seen.push_back(r.id);
    EXPECT_EQ(total, 3u);
    EXPECT_EQ(done, last_done + 1);
    last_done = done;
  };
  run_plan({spec("ok:1"), spec("fail:2"), spec("ok:3", 5s, {1})}, options);
  EXPECT_EQ(seen.size(), 3u);
}

TEST(Runner, AnEmptyPlanReturnsAtOnce) {
  const auto outcome = run_plan({}, fake_options());
  EXPECT_TRUE(outcome.results.empty());
  EXPECT_FALSE(outcome.interrupted);
}

TEST(Runner, AThrowingProbeBecomesAnErrorResultNotACrash) {
  auto options = fake_options();
  options.run_one = [](const ProbeSpec&, const ProbeContext&) -> ProbeResult {
    throw std::runtime_error("boom");
  };
  const auto r = run_plan({spec("x")}, options).results;
  EXPECT_EQ(r[0].status, Status::error);
  EXPECT_EQ(r[0].diagnosis, Diagnosis::probe_error);
}

}  // namespace
}  // namespace gwprobe::probes
