// `gwprobe firewall`: static validation of a firewall ruleset (nft JSON or iptables-save) for the
// gateway's destinations, and of an IP allowlist against the Azure service tags it needs.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "rules/bgp/catalog.hpp"
#include "rules/bgp/source_text.hpp"
#include "rules/firewall/firewall_check.hpp"
#include "rules/firewall/firewall_format.hpp"
#include "rules/firewall/profile_destinations.hpp"
#include "rules/firewall/service_tags.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli {
namespace {

namespace fw = rules::firewall;

struct FirewallOptions {
  std::string ruleset;
  std::string profile;
  std::vector<std::string> destinations;
  std::vector<std::string> probe_hosts;
  std::string service_tags;
  std::string allowlist;
  std::vector<std::string> regions;
  std::string geography;
  bool forward = false;
  std::string oif;
  std::string iif;
  std::string source;
  bool no_replies = false;
  std::string format = "text";
  bool strict = false;
};

rules::bgp::SourceText read_input(const std::string& path) {
  auto source = rules::bgp::read_source_text(path);
  if (!source) usage_error(source.error().message);
  return std::move(source).value();
}

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// --region values and the regions of --geography, as azure names.
std::vector<std::string> regions_of(const FirewallOptions& options) {
  std::vector<std::string> regions;
  const auto& catalog = rules::bgp::shipped_catalog();
  for (const auto& region : options.regions) {
    const auto* entry = catalog.region_by_azure_name(region);
    regions.push_back(entry != nullptr ? entry->azure_name : rules::bgp::to_lower(region));
  }
  if (!options.geography.empty()) {
    const auto* geography = catalog.find_geography(options.geography);
    if (geography == nullptr) {
      std::string names;
      for (const auto& name : catalog.geography_names())
        names += (names.empty() ? "" : ", ") + name;
      usage_error("unknown Power Platform geography '" + options.geography + "'; known: " + names);
    }
    regions.insert(regions.end(), geography->regions.begin(), geography->regions.end());
  }
  return regions;
}

fw::ServiceTags load_tags(const std::string& path) {
  auto tags = fw::parse_service_tags(read_input(path));
  if (!tags) usage_error(tags.error().message);
  return std::move(tags).value();
}

int run_allowlist(const FirewallOptions& options) {
  const fw::ServiceTags tags = load_tags(options.service_tags);
  auto allowlist = fw::parse_allowlist(read_input(options.allowlist));
  if (!allowlist) usage_error(allowlist.error().message);
  fw::AllowlistReport report;
  report.allowlist_source = options.allowlist;
  report.service_tags_source = options.service_tags;
  report.change_number = tags.change_number;
  report.regions = regions_of(options);
  report.coverage = fw::check_allowlist(tags, report.regions, *allowlist);
  print(options.format == "json" ? fw::allowlist_to_json(report).dump(
                                       2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                       "\n"
                                 : fw::format_allowlist_text(report));
  return report.any_uncovered() ? exit_code::not_ready : exit_code::ready;
}

int run_ruleset(const FirewallOptions& options) {
  auto ruleset = fw::load_ruleset(read_input(options.ruleset));
  if (!ruleset) usage_error(ruleset.error().message);

  std::vector<fw::FirewallDestination> destinations;
  std::string from;
  if (!options.profile.empty()) {
    auto profile = rules::load_profile(options.profile);
    if (!profile) usage_error(profile.error().message);
    for (const auto& assignment : options.probe_hosts) {
      if (auto r = rules::override_probe_host(*profile, assignment); !r) {
        usage_error(r.error().message);
      }
    }
    destinations = fw::destinations_from_profile(*profile);
    from = "profile " + profile->name + " (" + std::to_string(destinations.size()) + " endpoints)";
  } else if (!options.probe_hosts.empty()) {
    usage_error("--probe-host needs --profile");
  }
  for (const auto& text : options.destinations) {
    auto destination = fw::parse_destination(text);
    if (!destination) usage_error(destination.error().message);
    destinations.push_back(std::move(destination).value());
  }
  if (!options.destinations.empty()) {
    from += (from.empty() ? "" : " and ") + std::to_string(options.destinations.size()) + " --dest";
  }
  if (destinations.empty()) usage_error("--ruleset needs destinations: --profile or --dest");

  fw::FirewallCheckOptions check;
  check.path = options.forward ? fw::Path::forward : fw::Path::output;
  check.oif = options.oif;
  check.iif = options.iif;
  check.check_replies = !options.no_replies;
  if (!options.source.empty()) {
    const auto source = fw::IpAddress::parse(options.source);
    if (!source) usage_error("--source '" + options.source + "' is not an IP address");
    check.source = *source;
  }
  fw::ServiceTags tags;
  if (!options.service_tags.empty()) {
    tags = load_tags(options.service_tags);
    check.service_tags = &tags;
  }
  check.regions = regions_of(options);
  // Names are resolved by the DNS layer when `gwprobe check` wires a resolver; this command
  // evaluates IP literals, localhost and service-tag ranges, and says "unknown" for the rest.

  fw::FirewallReport report;
  report.ruleset_source = options.ruleset;
  report.ruleset_format = ruleset->format == fw::RulesetFormat::nft_json
                              ? std::string("nft JSON")
                              : "iptables-save (" + ruleset->iptables_family + ")";
  report.destinations_from = from;
  report.options = check;
  report.options.service_tags = nullptr;
  report.verdicts = fw::check_firewall(*ruleset, destinations, check);
  report.results = fw::firewall_results(report.verdicts);
  report.notes = ruleset->notes;
  print(options.format == "json" ? fw::firewall_to_json(report).dump(
                                       2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                       "\n"
                                 : fw::format_firewall_text(report));
  if (report.required_blocked() > 0) return exit_code::not_ready;
  return options.strict && report.warnings() > 0 ? exit_code::not_ready : exit_code::ready;
}

int run_firewall(const FirewallOptions& options) {
  if (options.ruleset.empty()) {
    if (options.service_tags.empty() || options.allowlist.empty()) {
      usage_error(
          "give --ruleset FILE (with --profile or --dest), or --service-tags FILE with "
          "--allowlist FILE");
    }
    return run_allowlist(options);
  }
  if (!options.allowlist.empty()) {
    usage_error("--allowlist checks service tags coverage and does not combine with --ruleset");
  }
  if (!options.iif.empty() && !options.forward) usage_error("--iif needs --forward");
  return run_ruleset(options);
}

void setup_firewall(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "firewall",
      "Static check of a firewall ruleset (nft -j list ruleset, iptables-save) for the gateway's "
      "destinations, or of an IP allowlist against the Azure service tags it needs");
  auto o = std::make_shared<FirewallOptions>();
  sub->add_option("--ruleset", o->ruleset,
                  "nft JSON (`nft -j list ruleset`) or iptables-save output");
  sub->add_option("--profile", o->profile,
                  "Profile whose endpoints are the destinations (name or file)");
  sub->add_option(
      "--dest", o->destinations,
      "Destination HOST:PORT[,PORT|-PORT] (repeatable), e.g. 203.0.113.7:443,9350-9354");
  sub->add_option("--probe-host", o->probe_hosts,
                  "PATTERN=HOST: evaluate a profile endpoint at HOST (repeatable)");
  sub->add_option("--service-tags", o->service_tags,
                  "Azure Service Tags JSON: address ranges for the hosts a tag covers, or the tags "
                  "an --allowlist must cover");
  sub->add_option("--allowlist", o->allowlist,
                  "IP allowlist (one CIDR per line) to check against --service-tags");
  sub->add_option("--region", o->regions,
                  "Azure region for regional tags, e.g. westeurope (repeatable)");
  sub->add_option("--geography", o->geography, "Power Platform geography: its regions' tags");
  sub->add_flag(
      "--forward", o->forward,
      "Evaluate a router in front of the gateway (prerouting/forward/postrouting) instead "
      "of the gateway host's own output");
  sub->add_option("--oif", o->oif, "Interface toward the destinations (the default route's)");
  sub->add_option("--iif", o->iif, "With --forward: interface the gateway's traffic arrives on");
  sub->add_option("--source", o->source, "The gateway's own address, for saddr matches");
  sub->add_flag("--no-replies", o->no_replies, "Do not evaluate the SYN-ACK coming back");
  sub->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--strict", o->strict, "Exit 1 on warnings too (unknown verdicts, optional ports)");
  sub->callback([o, &action] { action = [o] { return run_firewall(*o); }; });
}

const bool registered = register_command({"firewall", 61, setup_firewall});

}  // namespace
}  // namespace gwprobe::cli
