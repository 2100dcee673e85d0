// State-change detection by check id.
#include "cli/watch/state_changes.hpp"

#include <map>

#include "reports/report_parts.hpp"

namespace gwprobe::cli::watch {

std::vector<StateChange> state_changes(const core::RunReport* previous,
                                       const core::RunReport& current) {
  std::map<std::string, const core::ProbeResult*> before;
  if (previous != nullptr) {
    for (const auto& r : previous->results) before.emplace(reports::check_name(r), &r);
  }
  std::vector<StateChange> changes;
  for (const auto& r : current.results) {
    const std::string id = reports::check_name(r);
    const auto found = before.find(id);
    const core::ProbeResult* old = found == before.end() ? nullptr : found->second;
    if (old == nullptr && r.status == core::Status::pass) continue;
    if (old != nullptr && old->status == r.status && old->diagnosis == r.diagnosis) continue;
    StateChange change;
    change.check = id;
    change.kind = r.kind;
    change.target = r.target;
    change.required = r.required;
    if (old != nullptr) {
      change.from = old->status;
      change.from_code = old->diagnosis;
    }
    change.to = r.status;
    change.to_code = r.diagnosis;
    change.message = r.message;
    changes.push_back(std::move(change));
  }
  return changes;
}

}  // namespace gwprobe::cli::watch
