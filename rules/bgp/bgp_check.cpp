// ExpressRoute evaluation: geography -> needed communities -> route filter and route table.
#include "rules/bgp/bgp_check.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace gwprobe::rules::bgp {

namespace {

constexpr std::string_view kEndpoint = "ExpressRoute route filter";

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Service communities a gateway commonly needs: those the data marks with a gateway role, in
// the cloud of the geography's regions.
std::vector<NeededCommunity> services_for(const BgpCatalog& catalog, const std::string& cloud) {
  std::vector<NeededCommunity> out;
  for (const auto& service : catalog.services) {
    if (service.cloud != cloud || service.gateway_role.empty()) continue;
    NeededCommunity need;
    need.community = service.community;
    need.label = service.name;
    need.kind = "service";
    need.source = service.source;
    need.required = false;
    need.why = service.gateway_role;
    out.push_back(std::move(need));
  }
  return out;
}

const FilterRule* rule_with(const RouteFilter& filter, Community community, FilterAccess access) {
  for (const auto& rule : filter.rules) {
    if (rule.access != access) continue;
    if (std::find(rule.communities.begin(), rule.communities.end(), community) !=
        rule.communities.end()) {
      return &rule;
    }
  }
  return nullptr;
}

std::string describe_extra(const BgpCatalog& catalog, Community community) {
  if (const auto* region = catalog.region_by_community(community)) {
    return fmt::format("{} (regional, {}{})", region->name, region->source,
                       region->cloud == "public" ? "" : ", " + region->cloud);
  }
  if (const auto* service = catalog.service_by_community(community)) {
    return fmt::format("{} (service, {}{})", service->name, service->source,
                       service->cloud == "public" ? "" : ", " + service->cloud);
  }
  if (community.asn != kMicrosoftAsn) {
    return "not a Microsoft (AS 12076) community";
  }
  return "not in gwprobe's data";
}

std::string need_label(const NeededCommunity& need) {
  return fmt::format("{} ({}{})", need.community_text(), need.label,
                     need.unverified ? ", UNVERIFIED" : "");
}

}  // namespace

std::string NeededCommunity::community_text() const {
  return community ? community->to_string() : std::string("UNVERIFIED");
}

std::string_view to_string(CommunityState state) noexcept {
  switch (state) {
    case CommunityState::allowed:
      return "allowed";
    case CommunityState::missing:
      return "missing";
    case CommunityState::denied:
      return "denied";
    case CommunityState::unverified:
      return "unverified";
  }
  return "unknown";
}

core::Result<BgpPlan> plan_bgp(const BgpCatalog& catalog, std::string_view geography) {
  const GeographyEntry* entry = catalog.find_geography(geography);
  if (entry == nullptr) {
    return core::fail(core::FailureKind::not_found,
                      fmt::format("unknown Power Platform geography '{}'; known: {}", geography,
                                  join(catalog.geography_names(), ", ")));
  }
  BgpPlan plan;
  plan.geography = entry->name;
  plan.geography_source = entry->source;
  plan.rule_text = catalog.rule_text;
  plan.rule_source = catalog.rule_source;
  plan.notes = catalog.rule_notes;
  std::string cloud = "public";
  for (const auto& azure_name : entry->regions) {
    const RegionEntry* region = catalog.region_by_azure_name(azure_name);
    if (region == nullptr) continue;  // parse_catalog guarantees every geography region exists
    cloud = region->cloud;
    NeededCommunity need;
    need.community = region->community;
    need.label = region->name;
    need.azure_name = region->azure_name;
    need.kind = "regional";
    need.source = region->source;
    need.unverified = region->unverified || !region->community;
    need.derived = entry->communities_derived;
    need.required = true;
    need.why = fmt::format(
        "regional community of {} (Microsoft peering), paired region of the "
        "{} geography ({})",
        region->name, entry->name, entry->source);
    plan.regional.push_back(std::move(need));
  }
  if (entry->communities_derived) {
    plan.notes.push_back(fmt::format(
        "DERIVED: the regions of {} come from {} and each region's community from S7; no single "
        "document states the pair of communities.",
        entry->name, entry->source));
  }
  if (plan.regional.size() == 1) {
    plan.notes.push_back(fmt::format(
        "{} lists a single region for {}; S8's rule asks for two regional communities, so check "
        "the environment's region pair with Microsoft if a second region exists.",
        entry->source, entry->name));
  }
  for (const auto& need : plan.regional) {
    if (need.unverified) {
      plan.notes.push_back(
          fmt::format("UNVERIFIED: {} ({}) is not in the ExpressRoute community table (S7); run "
                      "Get-AzBgpServiceCommunity for its value.",
                      need.label, need.azure_name));
    }
  }
  plan.also_needed = services_for(catalog, cloud);
  plan.notes.push_back(
      "Microsoft 365 service communities (Exchange 12076:5010, SharePoint 12076:5020, other "
      "Office 365 12076:5100) are not needed for Power Platform; add them only for Microsoft 365 "
      "data sources, and Microsoft must authorize them (S7).");
  return plan;
}

bool BgpCheck::any_required_missing() const {
  return std::any_of(checks.begin(), checks.end(), [](const CommunityCheck& c) {
    if (!c.need.required) return false;
    if (c.state == CommunityState::missing || c.state == CommunityState::denied) return true;
    return c.state == CommunityState::allowed && c.routes && c.routes->known &&
           c.routes->count == 0;
  });
}

core::Result<BgpCheck> check_bgp(const BgpCheckInput& input) {
  const BgpCatalog& catalog = input.catalog != nullptr ? *input.catalog : shipped_catalog();
  auto plan = plan_bgp(catalog, input.geography);
  if (!plan) return core::fail(plan.error());
  BgpCheck check;
  check.plan = std::move(plan).value();
  check.route_filter_source = input.route_filter.source;
  check.route_filter_format = input.route_filter.format;
  check.route_filter_rules = input.route_filter.rules.size();
  check.routes = input.routes;

  std::vector<NeededCommunity> needs = check.plan.regional;
  needs.insert(needs.end(), check.plan.also_needed.begin(), check.plan.also_needed.end());
  for (const auto& need : needs) {
    CommunityCheck result;
    result.need = need;
    if (!need.community) {
      result.state = CommunityState::unverified;
    } else if (const auto* deny =
                   rule_with(input.route_filter, *need.community, FilterAccess::deny)) {
      result.state = CommunityState::denied;
      result.rule = deny->name;
    } else if (const auto* allow =
                   rule_with(input.route_filter, *need.community, FilterAccess::allow)) {
      result.state = CommunityState::allowed;
      result.rule = allow->name;
    } else {
      result.state = CommunityState::missing;
    }
    if (input.routes && need.community) {
      RouteArrival arrival;
      arrival.known = input.routes->has_communities;
      if (arrival.known) {
        for (const auto& route : input.routes->routes) {
          if (std::find(route.communities.begin(), route.communities.end(), *need.community) ==
              route.communities.end()) {
            continue;
          }
          if (arrival.count == 0) arrival.example_prefix = route.prefix;
          ++arrival.count;
        }
      }
      result.routes = arrival;
    }
    check.checks.push_back(std::move(result));
  }

  for (const auto& rule : input.route_filter.rules) {
    if (rule.access != FilterAccess::allow) continue;
    for (const auto community : rule.communities) {
      const bool needed = std::any_of(needs.begin(), needs.end(), [&](const NeededCommunity& n) {
        return n.community == community;
      });
      const bool listed =
          std::any_of(check.extras.begin(), check.extras.end(),
                      [&](const ExtraCommunity& e) { return e.community == community; });
      if (needed || listed) continue;
      check.extras.push_back(
          ExtraCommunity{community, describe_extra(catalog, community), rule.name});
    }
  }

  if (input.route_filter.rules.empty()) {
    check.notes.push_back("The route filter has no rules: Microsoft peering advertises no routes.");
  }
  if (input.routes && !input.routes->has_communities) {
    check.notes.push_back(fmt::format(
        "The route dump {} shows no communities, so which routes arrive per community is "
        "unknown; capture it with `{}`.",
        input.routes->source, input.routes->how_to_get_communities));
  }
  return check;
}

std::vector<core::ProbeResult> evaluate_bgp(const BgpCheckInput& input) {
  std::vector<core::ProbeResult> results;
  auto check = check_bgp(input);
  if (!check) {
    auto result = core::make_result(core::Status::fail, core::Diagnosis::bgp_unknown_geography,
                                    check.error().message);
    result.id = "bgp:geography";
    result.kind = "bgp";
    result.target = input.geography;
    result.endpoint = std::string(kEndpoint);
    result.required = true;
    result.advice = "Set bgp.geography to one of the listed Power Platform geographies.";
    results.push_back(std::move(result));
    return results;
  }
  for (const auto& c : check->checks) {
    const auto& need = c.need;
    core::ProbeResult result;
    result.id = "bgp:" + (need.community ? need.community->to_string() : need.azure_name);
    result.kind = "bgp";
    result.target = need_label(need);
    result.endpoint = std::string(kEndpoint);
    result.required = need.required;
    result.set_fact("geography", check->plan.geography);
    result.set_fact("community", need.community_text());
    result.set_fact(need.kind == "regional" ? "region" : "service", need.label);
    result.set_fact("source", need.source);
    if (need.derived) result.set_fact("derived", true);
    if (need.unverified) result.set_fact("unverified", true);
    if (!c.rule.empty()) result.set_fact("rule", c.rule);
    if (c.routes && c.routes->known) {
      result.set_fact("routes", static_cast<std::int64_t>(c.routes->count));
      if (!c.routes->example_prefix.empty()) {
        result.set_fact("example_prefix", c.routes->example_prefix);
      }
    }
    switch (c.state) {
      case CommunityState::unverified:
        result.status = core::Status::skip;
        result.diagnosis = core::Diagnosis::skipped;
        result.message = fmt::format(
            "{} ({}): community UNVERIFIED (not in S7's table); gwprobe cannot check it",
            need.label, need.azure_name);
        result.advice =
            "Look the value up with Get-AzBgpServiceCommunity and make sure the "
            "route filter allows it.";
        break;
      case CommunityState::missing:
      case CommunityState::denied:
        result.set_fact("missing_community", need.community_text());
        result.diagnosis = core::Diagnosis::bgp_community_missing;
        result.status = core::status_for(result.diagnosis, need.required);
        result.message = c.state == CommunityState::denied
                             ? fmt::format("route filter rule '{}' denies {}, needed for {}",
                                           c.rule, need_label(need), check->plan.geography)
                             : fmt::format("route filter lacks {}, needed for {}", need_label(need),
                                           check->plan.geography);
        result.advice =
            c.state == CommunityState::denied
                ? fmt::format("Remove {} from Deny rule '{}' and add it to an Allow rule.",
                              need.community_text(), c.rule)
                : fmt::format(
                      "Add {} to an Allow rule of the route filter (e.g. az network "
                      "route-filter rule update -g RG --filter-name FILTER -n RULE "
                      "--add communities {}).",
                      need.community_text(), need.community_text());
        break;
      case CommunityState::allowed:
        if (c.routes && c.routes->known && c.routes->count == 0) {
          result.set_fact("missing_community", need.community_text());
          result.diagnosis = core::Diagnosis::bgp_routes_missing;
          result.status = core::status_for(result.diagnosis, need.required);
          result.message = fmt::format(
              "route filter rule '{}' allows {}, but no route tagged "
              "with it arrives ({})",
              c.rule, need_label(need), check->routes->source);
          result.advice =
              "Check that the route filter is attached to the circuit's Microsoft "
              "peering and that the BGP session is up.";
        } else {
          result.diagnosis = core::Diagnosis::ok;
          result.status = core::Status::pass;
          result.message =
              fmt::format("route filter rule '{}' allows {}", c.rule, need_label(need));
          if (c.routes && c.routes->known) {
            result.message += fmt::format(
                "; {} route{} arrive{} (e.g. {})", c.routes->count, c.routes->count == 1 ? "" : "s",
                c.routes->count == 1 ? "s" : "", c.routes->example_prefix);
          }
        }
        break;
    }
    results.push_back(std::move(result));
  }
  if (!check->extras.empty()) {
    std::vector<std::string> extras;
    for (const auto& extra : check->extras) {
      extras.push_back(fmt::format("{} {}", extra.community.to_string(), extra.description));
    }
    auto result = core::make_result(
        core::Status::pass, core::Diagnosis::ok,
        fmt::format("route filter also allows (information): {}", join(extras, "; ")));
    result.id = "bgp:extra-communities";
    result.kind = "bgp";
    result.target = check->route_filter_source;
    result.endpoint = std::string(kEndpoint);
    result.required = false;
    result.set_fact("extra_communities", extras);
    results.push_back(std::move(result));
  }
  return results;
}

std::vector<core::ProbeResult> evaluate_bgp_files(std::string_view geography,
                                                  const std::string& route_filter_path,
                                                  const std::string& routes_path) {
  auto input_error = [&](const std::string& target, const core::Error& error) {
    auto result =
        core::make_result(core::Status::error, core::Diagnosis::probe_error, error.message);
    result.id = "bgp:input";
    result.kind = "bgp";
    result.target = target;
    result.endpoint = std::string(kEndpoint);
    result.required = true;
    return std::vector<core::ProbeResult>{std::move(result)};
  };
  BgpCheckInput input;
  input.geography = std::string(geography);
  auto filter_text = read_source_text(route_filter_path);
  if (!filter_text) return input_error(route_filter_path, filter_text.error());
  auto filter = parse_route_filter(*filter_text);
  if (!filter) return input_error(route_filter_path, filter.error());
  input.route_filter = std::move(filter).value();
  if (!routes_path.empty()) {
    auto routes_text = read_source_text(routes_path);
    if (!routes_text) return input_error(routes_path, routes_text.error());
    auto routes = parse_route_dump(*routes_text);
    if (!routes) return input_error(routes_path, routes.error());
    input.routes = std::move(routes).value();
  }
  return evaluate_bgp(input);
}

}  // namespace gwprobe::rules::bgp
