// Runner: bounded-parallel execution of a plan, dependency-aware, cancellable, in plan order.
#include "probes/runner.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "core/unique_fd.hpp"

namespace gwprobe::probes {

namespace {

using core::Diagnosis;
using core::ProbeResult;
using core::Status;

bool is_timeout_code(Diagnosis d) {
  return d == Diagnosis::tcp_filtered || d == Diagnosis::dns_timeout ||
         d == Diagnosis::tls_handshake_failed || d == Diagnosis::ws_frames_blocked ||
         d == Diagnosis::probe_cancelled;
}

/// True when a finished dependency lets its dependents run.
bool lets_dependents_run(const ProbeResult& r) {
  return r.status == Status::pass || r.status == Status::warn;
}

class PlanRun {
 public:
  PlanRun(const std::vector<ProbeSpec>& plan, const RunnerOptions& options)
      : plan_(plan),
        options_(options),
        results_(plan.size()),
        done_(plan.size(), false),
        pending_deps_(plan.size(), 0),
        dependents_(plan.size()),
        wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    for (std::size_t i = 0; i < plan.size(); ++i) {
      for (std::size_t dep : plan[i].depends_on) {
        if (dep < i) {  // only earlier specs: a plan cannot deadlock on a cycle
          ++pending_deps_[i];
          dependents_[dep].push_back(i);
        }
      }
      if (pending_deps_[i] == 0) ready_.push_back(i);
    }
  }

  RunOutcome run() {
    if (plan_.empty()) return {};
    const std::size_t workers = std::max<std::size_t>(
        1, std::min(options_.parallelism == 0 ? 1 : options_.parallelism, plan_.size()));
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) threads.emplace_back([this] { work(); });

    // Wait for: everything finished, Ctrl-C (cancel fd) or the overall deadline.
    bool interrupted = false;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (finished_ == plan_.size()) break;
      }
      pollfd fds[2] = {{options_.cancel.fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      const int rc = ::poll(fds, 2, options_.overall.remaining_ms(-1));
      if (fds[1].revents & POLLIN) {
        std::uint64_t n;
        [[maybe_unused]] auto got = ::read(wake_.get(), &n, sizeof n);
      }
      if (options_.cancel.cancelled() || (rc == 0 && options_.overall.expired()) ||
          options_.overall.expired()) {
        interrupted = true;
        stop(options_.cancel.cancelled() ? "interrupted (Ctrl-C)" : "the run's deadline passed");
        break;
      }
    }
    for (auto& t : threads) t.join();
    RunOutcome outcome;
    outcome.results = std::move(results_);
    outcome.interrupted = interrupted;
    return outcome;
  }

 private:
  void work() {
    for (;;) {
      std::size_t index = 0;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock,
                 [this] { return stopping_ || !ready_.empty() || finished_ == plan_.size(); });
        // Stopping, all done, or interrupted: leave what is queued for stop() to mark.
        if (ready_.empty() || stopping_ || options_.cancel.cancelled() ||
            options_.overall.expired()) {
          return;
        }
        index = ready_.front();
        ready_.pop_front();
      }
      ProbeResult result = run_one(index);
      std::lock_guard lock(mutex_);
      finish(index, std::move(result));
    }
  }

  ProbeResult run_one(std::size_t index) {
    const ProbeSpec& spec = plan_[index];
    ProbeContext context;
    const auto own = core::Deadline::after(spec.timeout);
    context.deadline = own.earlier(options_.overall);
    const bool truncated = context.deadline.when() < own.when();
    context.cancel = options_.cancel;
    context.addresses = options_.addresses;

    const auto start = core::SteadyClock::now();
    ProbeResult result;
    try {
      result = options_.run_one ? options_.run_one(spec, context) : run_probe(spec, context);
    } catch (...) {  // run_probe never throws; an injected fake might
      result = core::make_result(Status::error, Diagnosis::probe_error,
                                 "internal error while running the check");
    }
    result.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(core::SteadyClock::now() - start);
    if (options_.cancel.cancelled() && is_timeout_code(result.diagnosis)) {
      result.status = Status::error;
      result.diagnosis = Diagnosis::probe_cancelled;
      result.message = "interrupted before the check could finish";
    } else if (truncated && context.deadline.expired() && is_timeout_code(result.diagnosis)) {
      // Cut short by the run's deadline, not by its own timeout: a timeout here proves nothing.
      result.status = Status::error;
      result.diagnosis = Diagnosis::probe_cancelled;
      result.message = "the run's overall deadline passed before this check's own timeout";
    }
    stamp(spec, result);
    return result;
  }

  void stamp(const ProbeSpec& spec, ProbeResult& result) const {
    result.id = spec.id;
    result.endpoint = spec.endpoint;
    result.required = spec.required;
    if (result.kind.empty()) result.kind = std::string(kind_of(spec.options));
    if (result.target.empty()) result.target = spec.target.to_string();
    // Probes judge the network; whether a failure fails the run is the plan's call.
    if (!spec.required && result.status == Status::fail) result.status = Status::warn;
  }

  /// Records a result and releases or skips its dependents. Caller holds mutex_.
  void finish(std::size_t index, ProbeResult result) {
    const bool release = lets_dependents_run(result);
    const std::string blocker_id = result.id;
    const Diagnosis blocker_code = result.diagnosis;
    results_[index] = std::move(result);
    done_[index] = true;
    ++finished_;
    notify(results_[index]);
    for (std::size_t dependent : dependents_[index]) {
      if (done_[dependent]) continue;
      if (release) {
        if (--pending_deps_[dependent] == 0 && !stopping_) ready_.push_back(dependent);
      } else {
        ProbeResult skipped = core::make_result(Status::skip, blocker_code,
                                                "not run: " + blocker_id + " did not pass (" +
                                                    std::string(core::to_code(blocker_code)) + ")");
        skipped.set_fact("blocked_by", blocker_id);
        stamp(plan_[dependent], skipped);
        finish(dependent, std::move(skipped));
      }
    }
    cv_.notify_all();
    if (finished_ == plan_.size()) signal_wake();
  }

  /// Marks every unstarted probe as cancelled; running ones end on their own (they watch the
  /// cancel token or their deadline).
  void stop(const std::string& why) {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    std::deque<std::size_t> unstarted;
    unstarted.swap(ready_);
    std::vector<std::size_t> waiting;
    for (std::size_t i = 0; i < plan_.size(); ++i) {
      if (!done_[i] && pending_deps_[i] > 0) waiting.push_back(i);
    }
    for (auto i : unstarted) waiting.push_back(i);
    std::sort(waiting.begin(), waiting.end());
    for (std::size_t i : waiting) {
      if (done_[i]) continue;
      ProbeResult r =
          core::make_result(Status::skip, Diagnosis::probe_cancelled, "not run: " + why);
      stamp(plan_[i], r);
      results_[i] = std::move(r);
      done_[i] = true;
      ++finished_;
      notify(results_[i]);
    }
    cv_.notify_all();
  }

  void notify(const ProbeResult& r) {
    if (options_.on_result) options_.on_result(r, finished_, plan_.size());
  }

  void signal_wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
  }

  const std::vector<ProbeSpec>& plan_;
  const RunnerOptions& options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ProbeResult> results_;
  std::vector<bool> done_;
  std::vector<std::size_t> pending_deps_;
  std::vector<std::vector<std::size_t>> dependents_;
  std::deque<std::size_t> ready_;
  std::size_t finished_ = 0;
  bool stopping_ = false;
  core::UniqueFd wake_;
};

}  // namespace

RunOutcome run_plan(const std::vector<ProbeSpec>& plan, const RunnerOptions& options) {
  PlanRun run(plan, options);
  return run.run();
}

}  // namespace gwprobe::probes
