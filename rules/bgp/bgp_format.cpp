// Renderings of BGP plans and checks.
#include "rules/bgp/bgp_format.hpp"

#include <fmt/format.h>

namespace gwprobe::rules::bgp {

namespace {

using json = nlohmann::ordered_json;

json need_to_json(const NeededCommunity& need) {
  json out = {{"community", need.community ? json(need.community->to_string()) : json(nullptr)},
              {"name", need.label},
              {"kind", need.kind},
              {"source", need.source},
              {"unverified", need.unverified},
              {"required", need.required},
              {"why", need.why}};
  if (!need.azure_name.empty()) out["azure_name"] = need.azure_name;
  if (need.derived) out["derived"] = true;
  return out;
}

std::string need_line(const NeededCommunity& need) {
  std::string line = fmt::format("  {:<12} {:<20}", need.community_text(), need.label);
  if (!need.azure_name.empty()) line += fmt::format(" {:<20}", need.azure_name);
  line += fmt::format(" {}", need.source);
  if (need.derived) line += " (DERIVED)";
  if (need.unverified) line += "  UNVERIFIED";
  return line;
}

std::string routes_text(const CommunityCheck& check) {
  if (!check.routes) return "";
  if (!check.routes->known) return "routes: unknown (dump shows no communities)";
  if (check.routes->count == 0) return "routes: none arrive";
  return fmt::format("routes: {} (e.g. {})", check.routes->count, check.routes->example_prefix);
}

std::string state_word(const CommunityCheck& check) {
  switch (check.state) {
    case CommunityState::allowed:
      if (check.routes && check.routes->known && check.routes->count == 0) return "NO ROUTES";
      return "OK";
    case CommunityState::missing:
      return "MISSING";
    case CommunityState::denied:
      return "DENIED";
    case CommunityState::unverified:
      return "UNVERIFIED";
  }
  return "?";
}

}  // namespace

std::string format_plan_text(const BgpPlan& plan, const BgpCatalog& catalog) {
  std::string out;
  out += fmt::format("Power Platform geography: {} (regions from {})\n", plan.geography,
                     plan.geography_source);
  out += fmt::format("Rule ({}): \"{}\"\n\n", plan.rule_source, plan.rule_text);
  out += "Regional communities to allow in the route filter (Microsoft peering):\n";
  for (const auto& need : plan.regional) out += need_line(need) + "\n";
  if (!plan.also_needed.empty()) {
    out += "\nAlso commonly needed by a gateway:\n";
    for (const auto& need : plan.also_needed) {
      out += need_line(need) + "\n";
      out += fmt::format("  {:<12} {}\n", "", need.why);
    }
  }
  if (!plan.notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& note : plan.notes) out += fmt::format("  - {}\n", note);
  }
  out += "\nSources:\n";
  std::vector<std::string> ids = {plan.rule_source, plan.geography_source};
  for (const auto& need : plan.regional) ids.push_back(need.source);
  for (const auto& need : plan.also_needed) ids.push_back(need.source);
  std::vector<std::string> printed;
  for (const auto& id : ids) {
    if (std::find(printed.begin(), printed.end(), id) != printed.end()) continue;
    printed.push_back(id);
    out += fmt::format("  {}\n", catalog.describe_source(id));
  }
  return out;
}

json plan_to_json(const BgpPlan& plan, const BgpCatalog& catalog) {
  json out = {{"schema", "gwprobe.bgp-plan/v1"},
              {"geography", plan.geography},
              {"geography_source", plan.geography_source},
              {"rule", {{"text", plan.rule_text}, {"source", plan.rule_source}}},
              {"regional", json::array()},
              {"also_needed", json::array()},
              {"notes", plan.notes},
              {"sources", json::object()}};
  for (const auto& need : plan.regional) out["regional"].push_back(need_to_json(need));
  for (const auto& need : plan.also_needed) out["also_needed"].push_back(need_to_json(need));
  for (const auto& [id, text] : catalog.sources) out["sources"][id] = text;
  return out;
}

std::string format_check_text(const BgpCheck& check) {
  std::string out;
  out += fmt::format("ExpressRoute check for Power Platform geography {} ({})\n",
                     check.plan.geography, check.plan.geography_source);
  out += fmt::format("Route filter: {} ({}, {} rule{})\n", check.route_filter_source,
                     check.route_filter_format, check.route_filter_rules,
                     check.route_filter_rules == 1 ? "" : "s");
  if (check.routes) {
    out += fmt::format("Routes: {} ({}, {} path{})\n", check.routes->source, check.routes->format,
                       check.routes->routes.size(), check.routes->routes.size() == 1 ? "" : "s");
  }
  out += "\n";
  int missing = 0;
  int warnings = 0;
  for (const auto& c : check.checks) {
    const std::string word = state_word(c);
    std::string line =
        fmt::format("  {:<10} {:<12} {:<20}", word, c.need.community_text(), c.need.label);
    if (!c.need.required) line += " (commonly needed)";
    if (c.need.derived) line += " DERIVED";
    if (c.need.unverified) line += " UNVERIFIED";
    if (c.state == CommunityState::allowed) line += fmt::format("  rule '{}'", c.rule);
    if (c.state == CommunityState::denied) line += fmt::format("  denied by rule '{}'", c.rule);
    if (c.state == CommunityState::missing) line += "  BGP_COMMUNITY_MISSING";
    if (word == "NO ROUTES") line += "  BGP_ROUTES_MISSING";
    if (const auto routes = routes_text(c); !routes.empty() && c.need.community) {
      line += "  " + routes;
    }
    out += line + "\n";
    const bool bad = word == "MISSING" || word == "DENIED" || word == "NO ROUTES";
    if (bad && c.need.required) ++missing;
    if ((bad && !c.need.required) || word == "UNVERIFIED") ++warnings;
  }
  if (!check.extras.empty()) {
    out += "\nAlso allowed by the filter (information):\n";
    for (const auto& extra : check.extras) {
      out += fmt::format("  {:<12} {}  rule '{}'\n", extra.community.to_string(), extra.description,
                         extra.rule);
    }
  }
  std::vector<std::string> notes = check.notes;
  notes.insert(notes.end(), check.plan.notes.begin(), check.plan.notes.end());
  if (!notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& note : notes) out += fmt::format("  - {}\n", note);
  }
  out += fmt::format("\nResult: {}\n",
                     missing > 0    ? fmt::format("{} required communit{} missing", missing,
                                               missing == 1 ? "y" : "ies")
                     : warnings > 0 ? fmt::format("required communities present; {} warning{}",
                                                  warnings, warnings == 1 ? "" : "s")
                                    : std::string("all needed communities present"));
  return out;
}

json check_to_json(const BgpCheck& check) {
  json out = {{"schema", "gwprobe.bgp-check/v1"},
              {"geography", check.plan.geography},
              {"geography_source", check.plan.geography_source},
              {"verdict", check.any_required_missing() ? "missing" : "ok"},
              {"route_filter",
               {{"source", check.route_filter_source},
                {"format", check.route_filter_format},
                {"rules", check.route_filter_rules}}},
              {"checks", json::array()},
              {"extras", json::array()},
              {"notes", check.notes},
              {"rule", {{"text", check.plan.rule_text}, {"source", check.plan.rule_source}}}};
  for (const auto& note : check.plan.notes) out["notes"].push_back(note);
  if (check.routes) {
    out["routes"] = {{"source", check.routes->source},
                     {"format", check.routes->format},
                     {"paths", check.routes->routes.size()},
                     {"has_communities", check.routes->has_communities}};
  }
  for (const auto& c : check.checks) {
    json item = need_to_json(c.need);
    item["state"] = std::string(to_string(c.state));
    if (!c.rule.empty()) item["rule"] = c.rule;
    if (c.state == CommunityState::missing || c.state == CommunityState::denied) {
      item["diagnosis"] = "BGP_COMMUNITY_MISSING";
    } else if (c.state == CommunityState::allowed && c.routes && c.routes->known &&
               c.routes->count == 0) {
      item["diagnosis"] = "BGP_ROUTES_MISSING";
    } else if (c.state == CommunityState::allowed) {
      item["diagnosis"] = "OK";
    }
    if (c.routes) {
      item["routes"] = {{"known", c.routes->known}, {"count", c.routes->count}};
      if (!c.routes->example_prefix.empty()) {
        item["routes"]["example_prefix"] = c.routes->example_prefix;
      }
    }
    out["checks"].push_back(std::move(item));
  }
  for (const auto& extra : check.extras) {
    out["extras"].push_back({{"community", extra.community.to_string()},
                             {"description", extra.description},
                             {"rule", extra.rule}});
  }
  return out;
}

}  // namespace gwprobe::rules::bgp
