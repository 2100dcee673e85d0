// ExpressRoute BGP-community validation (pure): what a Power Platform geography needs, and
// whether a route filter (and optionally a BGP daemon's table) provides it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/probe_result.hpp"
#include "core/result.hpp"
#include "rules/bgp/catalog.hpp"
#include "rules/bgp/route_dump.hpp"
#include "rules/bgp/route_filter.hpp"

namespace gwprobe::rules::bgp {

/// One community the plan asks for.
struct NeededCommunity {
  std::optional<Community> community;  ///< empty when the value is UNVERIFIED
  std::string label;                   ///< "West Europe" / "Microsoft Entra ID"
  std::string azure_name;              ///< "westeurope" for regions, "" for services
  std::string kind;                    ///< "regional" or "service"
  std::string source;                  ///< "S7"
  bool unverified = false;
  bool derived = false;  ///< the geography -> region -> community join is DERIVED
  bool required = true;  ///< regional: required; Entra ID: commonly needed (a warning)
  std::string why;

  /// "12076:51002" or "UNVERIFIED".
  std::string community_text() const;
};

struct BgpPlan {
  std::string geography;         ///< canonical name ("United States" for "us")
  std::string geography_source;  ///< "S9"
  std::vector<NeededCommunity> regional;
  std::vector<NeededCommunity> also_needed;  ///< service communities a gateway commonly needs
  std::string rule_text;
  std::string rule_source;
  std::vector<std::string> notes;
};

/// The plan for a geography (name or alias, any case). not_found "unknown geography 'X'; known:
/// ..." when there is none (BGP_UNKNOWN_GEOGRAPHY).
core::Result<BgpPlan> plan_bgp(const BgpCatalog& catalog, std::string_view geography);

enum class CommunityState {
  allowed,     ///< in an Allow rule and no Deny rule
  missing,     ///< in no rule
  denied,      ///< in a Deny rule
  unverified,  ///< the value itself is UNVERIFIED: cannot be checked
};
std::string_view to_string(CommunityState state) noexcept;

/// Whether routes tagged with a community arrive in the daemon's table.
struct RouteArrival {
  bool known = false;  ///< false when the dump shows no communities
  int count = 0;
  std::string example_prefix;
};

struct CommunityCheck {
  NeededCommunity need;
  CommunityState state = CommunityState::missing;
  std::string rule;  ///< the rule that allowed or denied it
  std::optional<RouteArrival> routes;
};

/// A community the filter allows that the plan does not ask for (information only).
struct ExtraCommunity {
  Community community;
  std::string description;  ///< "East US (regional, S7)" or "not in gwprobe's data"
  std::string rule;
};

struct BgpCheck {
  BgpPlan plan;
  std::string route_filter_source;
  std::string route_filter_format;
  std::size_t route_filter_rules = 0;
  std::vector<CommunityCheck> checks;
  std::vector<ExtraCommunity> extras;
  std::optional<RouteDump> routes;  ///< summary only: routes are counted into `checks`
  std::vector<std::string> notes;

  /// A required community not allowed, or allowed but with no route arriving.
  bool any_required_missing() const;
};

struct BgpCheckInput {
  std::string geography;
  RouteFilter route_filter;
  std::optional<RouteDump> routes;
  const BgpCatalog* catalog = nullptr;  ///< nullptr: the shipped catalog
};

/// Evaluates the route filter (and routes) against the geography's plan. Fails only for an
/// unknown geography (not_found, as plan_bgp).
core::Result<BgpCheck> check_bgp(const BgpCheckInput& input);

/// The same evaluation as ProbeResults, for `gwprobe check` (kind "bgp", one per needed
/// community, plus one for the filter's extras): BGP_COMMUNITY_MISSING, BGP_ROUTES_MISSING,
/// BGP_UNKNOWN_GEOGRAPHY, OK. Pure.
std::vector<core::ProbeResult> evaluate_bgp(const BgpCheckInput& input);

/// Reads the route filter (and route dump, when `routes_path` is not empty) and evaluates them:
/// what `gwprobe check` calls when the profile has bgp.geography and bgp.route_filter. A file
/// that cannot be read or parsed gives one result with status error and the positioned message.
std::vector<core::ProbeResult> evaluate_bgp_files(std::string_view geography,
                                                  const std::string& route_filter_path,
                                                  const std::string& routes_path);

}  // namespace gwprobe::rules::bgp
