// Azure ExpressRoute route filters (Microsoft peering): which communities a circuit lets through.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "rules/bgp/community.hpp"
#include "rules/bgp/source_text.hpp"

namespace gwprobe::rules::bgp {

enum class FilterAccess { allow, deny };

struct FilterRule {
  std::string name;  ///< the rule's name, or "line 3" for a plain community list
  FilterAccess access = FilterAccess::allow;
  std::vector<Community> communities;
  std::string where;  ///< "file:line:column" of the rule
};

struct RouteFilter {
  std::string name;    ///< the filter's name when the JSON has one
  std::string source;  ///< file name
  std::string format;  ///< "azure-json" or "community-list"
  std::vector<FilterRule> rules;
};

/// Parses a route filter in any of the shapes people have at hand:
/// - `az network route-filter show` (camelCase, rules flattened: {"rules":[{"access":"Allow",
///   "communities":[...],"routeFilterRuleType":"Community","name":...}]});
/// - the ARM/REST resource ({"properties":{"rules":[{"name":...,"properties":{...}}]}}), an ARM
///   template ({"resources":[...]} with routeFilters and routeFilters/routeFilterRules);
/// - `az network route-filter rule list`/`rule show` (an array of rules, or one rule);
/// - PowerShell `Get-AzRouteFilter | ConvertTo-Json` (PascalCase keys);
/// - a plain list of communities, one per line or comma/space separated, `#` comments.
/// Errors are invalid_input "file:line:column: what was expected".
core::Result<RouteFilter> parse_route_filter(const SourceText& source);

}  // namespace gwprobe::rules::bgp
