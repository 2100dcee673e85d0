// What every writer shares: endpoint groups in plan order, verdict and status wording, timestamps
// and fact numbers, so that the six formats say the same thing in the same words.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/report.hpp"

namespace gwprobe::reports {

/// The checks of one profile endpoint, in plan order.
struct EndpointGroup {
  std::string name;  ///< ProbeResult::endpoint; empty for checks that belong to no endpoint
  std::vector<const core::ProbeResult*> results;
};

/// Groups results by endpoint; groups appear in the order of their first result.
std::vector<EndpointGroup> group_by_endpoint(const std::vector<core::ProbeResult>& results);

/// The heading shown for a group: its name, or "other checks" for the unnamed group.
std::string group_title(const EndpointGroup& group);

/// "READY", "DEGRADED", "NOT READY".
std::string_view verdict_label(core::Verdict verdict) noexcept;

/// "2 failed · 3 warnings · 1 error · 9 passed · 1 skipped" (zero counts left out; "no checks"
/// when there are none). `separator` replaces " · " for formats that want plain ASCII.
std::string counts_summary(const core::Counts& counts, std::string_view separator = " · ");

/// "14 checks in 2.3 s" (the run's wall time).
std::string run_size_summary(const core::RunReport& report);

/// The check's stable name: its id, or "kind:target" when the runner left the id empty.
std::string check_name(const core::ProbeResult& result);

/// RFC 3339 in UTC with milliseconds: "2024-05-14T09:30:00.250Z".
std::string rfc3339_utc(std::chrono::system_clock::time_point when);
/// For people: "2024-05-14 09:30:00 UTC".
std::string human_utc(std::chrono::system_clock::time_point when);

/// A fact as a number: integers and doubles as they are, text when it is a whole decimal
/// number ("1767225600", "240.5"); nullopt otherwise or when absent.
std::optional<double> fact_number(const core::ProbeResult& result, std::string_view key);

/// Phase names in connection order (resolve, connect, proxy, tls, upgrade, first_byte,
/// transfer); a phase a probe invented itself sorts after them, in the order it was recorded.
std::vector<core::Phase> phases_in_order(const core::ProbeResult& result);

/// Counts computed from the results, so that every writer's totals match what it lists.
core::Counts counts_of(const core::RunReport& report);
core::Counts counts_of(const EndpointGroup& group);

/// Seconds as a decimal with `decimals` digits ("0.063"), never in exponent form.
std::string seconds_text(std::chrono::microseconds d, int decimals);

}  // namespace gwprobe::reports
