// ProbeResult: what one check found, in the shape every report writer and rule consumes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/diagnosis.hpp"

namespace gwprobe::core {

/// Outcome of one check. `warn` = a problem on something optional (does not fail the run unless
/// --strict); `error` = gwprobe could not run the check; `skip` = not run.
enum class Status { pass, warn, fail, skip, error };

std::string_view to_string(Status s) noexcept;

/// Standard phase names, in the order a connection goes through them.
namespace phase {
inline constexpr std::string_view resolve = "resolve";
inline constexpr std::string_view connect = "connect";
inline constexpr std::string_view proxy = "proxy";  ///< CONNECT through the proxy
inline constexpr std::string_view tls = "tls";
inline constexpr std::string_view upgrade = "upgrade";
inline constexpr std::string_view first_byte = "first_byte";
inline constexpr std::string_view transfer = "transfer";
}  // namespace phase

/// A fact's value: text, a number, a flag, or a list of strings (addresses, chain subjects).
using FactValue = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct Fact {
  std::string key;
  FactValue value;
};

struct Phase {
  std::string name;
  std::chrono::microseconds duration{0};
};

/// The result of one probe. Probes fill status, diagnosis, message, phases and facts; the runner
/// stamps id, duration and the plan metadata; rules may fill advice when the probe left it empty.
struct ProbeResult {
  std::string id;        ///< stable within a profile, e.g. "tcp:localhost:443"
  std::string kind;      ///< "dns", "tcp", "tls", "proxy", "websocket", "idle", "e2e", ...
  std::string target;    ///< what was probed, as shown to people
  std::string endpoint;  ///< the profile endpoint this check belongs to (for grouping)
  bool required = true;  ///< false: a failure is a warning
  Status status = Status::error;
  Diagnosis diagnosis = Diagnosis::probe_error;
  std::string message;  ///< one line: what happened, where
  std::string advice;   ///< what to change; empty when nothing to do
  std::chrono::microseconds duration{0};
  std::vector<Phase> phases;
  std::vector<Fact> facts;

  /// Records (or replaces) a phase timing.
  void set_phase(std::string_view name, std::chrono::nanoseconds d);
  /// Records (or replaces) a fact; order of first insertion is kept.
  void set_fact(std::string_view key, FactValue value);
  /// The fact's value, or nullptr.
  const FactValue* fact(std::string_view key) const;
  /// The fact as text (numbers formatted, lists joined by ", "), or "" when absent.
  std::string fact_text(std::string_view key) const;
};

/// Shorthands for probes: a finished result with status, code and message.
ProbeResult make_result(Status status, Diagnosis diagnosis, std::string message);

/// Sets a probe's verdict: `diagnosis`, `message`, and the status that goes with the code:
/// pass for ok, error for probe_cancelled and probe_error (gwprobe could not tell), else fail.
void set_verdict(ProbeResult& into, Diagnosis diagnosis, std::string message);

/// "pass" for ok; for a failure: "fail" when required, "warn" when optional.
Status status_for(Diagnosis diagnosis, bool required) noexcept;

/// Text for a fact value (as fact_text does).
std::string to_text(const FactValue& value);

}  // namespace gwprobe::core
