// `gwprobe bgp plan|check`: ExpressRoute BGP communities a Power Platform geography needs, and
// whether a route filter (and a BGP daemon's table) provides them.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "rules/bgp/bgp_check.hpp"
#include "rules/bgp/bgp_format.hpp"

namespace gwprobe::cli {
namespace {

namespace bgp = rules::bgp;

struct BgpOptions {
  std::string geography;
  std::string route_filter;
  std::string routes;
  std::string format = "text";
  bool strict = false;
};

// "-" reads standard input, so `az network route-filter show ... | gwprobe bgp check
// --route-filter -` works.
bgp::SourceText read_input(const std::string& path, const char* what) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (text.size() > bgp::kMaxInputBytes) usage_error(std::string(what) + ": input too large");
    return bgp::SourceText{"<stdin>", std::move(text)};
  }
  auto source = bgp::read_source_text(path);
  if (!source) usage_error(source.error().message);
  return std::move(source).value();
}

// Warnings: an UNVERIFIED community that cannot be checked, a commonly needed one missing.
bool has_warnings(const bgp::BgpCheck& check) {
  for (const auto& c : check.checks) {
    if (c.state == bgp::CommunityState::unverified) return true;
    const bool absent = c.state != bgp::CommunityState::allowed ||
                        (c.routes && c.routes->known && c.routes->count == 0);
    if (absent && !c.need.required) return true;
  }
  return false;
}

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

int run_plan(const BgpOptions& options) {
  const auto& catalog = bgp::shipped_catalog();
  auto plan = bgp::plan_bgp(catalog, options.geography);
  if (!plan) usage_error("BGP_UNKNOWN_GEOGRAPHY: " + plan.error().message);
  if (options.format == "json") {
    print(bgp::plan_to_json(*plan, catalog)
              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n");
  } else {
    print(bgp::format_plan_text(*plan, catalog));
  }
  return exit_code::ready;
}

int run_check(const BgpOptions& options) {
  bgp::BgpCheckInput input;
  input.geography = options.geography;
  if (bgp::shipped_catalog().find_geography(options.geography) == nullptr) {
    auto plan = bgp::plan_bgp(bgp::shipped_catalog(), options.geography);
    usage_error("BGP_UNKNOWN_GEOGRAPHY: " + plan.error().message);
  }
  auto filter = bgp::parse_route_filter(read_input(options.route_filter, "--route-filter"));
  if (!filter) usage_error(filter.error().message);
  input.route_filter = std::move(filter).value();
  if (!options.routes.empty()) {
    auto routes = bgp::parse_route_dump(read_input(options.routes, "--routes"));
    if (!routes) usage_error(routes.error().message);
    input.routes = std::move(routes).value();
  }
  auto check = bgp::check_bgp(input);
  if (!check) usage_error("BGP_UNKNOWN_GEOGRAPHY: " + check.error().message);
  if (options.format == "json") {
    print(bgp::check_to_json(*check).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n");
  } else {
    print(bgp::format_check_text(*check));
  }
  if (check->any_required_missing()) return exit_code::not_ready;
  return options.strict && has_warnings(*check) ? exit_code::not_ready : exit_code::ready;
}

void setup_bgp(CLI::App& root, Action& action) {
  auto* bgp_cmd = root.add_subcommand(
      "bgp",
      "ExpressRoute: the BGP communities a Power Platform geography needs, and checks of "
      "a route filter and route table against them");
  bgp_cmd->require_subcommand(1);

  auto plan_options = std::make_shared<BgpOptions>();
  auto* plan = bgp_cmd->add_subcommand(
      "plan", "The regional (and commonly needed service) communities for a geography");
  plan->add_option("--geography,-g", plan_options->geography,
                   "Power Platform geography, e.g. Europe, \"United States\", US")
      ->required();
  plan->add_option("--format", plan_options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  plan->callback(
      [plan_options, &action] { action = [plan_options] { return run_plan(*plan_options); }; });

  auto check_options = std::make_shared<BgpOptions>();
  auto* check = bgp_cmd->add_subcommand(
      "check",
      "Check a route filter (and optionally a BGP route dump) for a geography; exit 1 "
      "when a required community is missing");
  check->add_option("--geography,-g", check_options->geography, "Power Platform geography")
      ->required();
  check
      ->add_option("--route-filter", check_options->route_filter,
                   "Azure route filter JSON (az network route-filter show, ARM, PowerShell) or "
                   "a list of communities; - for standard input")
      ->required();
  check->add_option("--routes", check_options->routes,
                    "BGP route dump: BIRD `show route all` or FRR `show bgp ipv4 unicast json "
                    "detail`");
  check->add_option("--format", check_options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  check->add_flag("--strict", check_options->strict,
                  "Exit 1 on warnings too (UNVERIFIED communities, Entra ID missing)");
  check->callback(
      [check_options, &action] { action = [check_options] { return run_check(*check_options); }; });
}

const bool registered = register_command({"bgp", 60, setup_bgp});

}  // namespace
}  // namespace gwprobe::cli
