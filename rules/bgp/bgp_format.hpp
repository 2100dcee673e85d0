// Text and JSON renderings of a BGP plan and check, for `gwprobe bgp` (pure).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rules/bgp/bgp_check.hpp"

namespace gwprobe::rules::bgp {

/// Human-readable plan; every UNVERIFIED and DERIVED value is labelled as such.
std::string format_plan_text(const BgpPlan& plan, const BgpCatalog& catalog);
/// {"schema":"gwprobe.bgp-plan/v1", "geography", "regional":[...], "also_needed":[...], ...}
nlohmann::ordered_json plan_to_json(const BgpPlan& plan, const BgpCatalog& catalog);

/// Human-readable check: one line per needed community, extras, notes, a summary line.
std::string format_check_text(const BgpCheck& check);
/// {"schema":"gwprobe.bgp-check/v1", "verdict":"ok"|"missing", "checks":[...], "extras":[...]}
nlohmann::ordered_json check_to_json(const BgpCheck& check);

}  // namespace gwprobe::rules::bgp
