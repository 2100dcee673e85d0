// `gwprobe probe dns HOST [--resolver IP[:PORT]]...`
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "core/target.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::cli {
namespace {

struct DnsArgs {
  std::string host;
  std::vector<std::string> resolvers;
  bool no_system = false;
  bool private_ok = false;
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "Resolve HOST (A, AAAA, CNAME chain, TTLs) with the system resolver and "
      "optional reference resolvers");
  auto args = std::make_shared<DnsArgs>();
  command.add_option("host", args->host, "Host name to resolve")->required();
  command.add_option("--resolver", args->resolvers,
                     "Reference resolver IP[:PORT] to compare with (repeatable)");
  command.add_flag("--no-system", args->no_system,
                   "Ask only the --resolver servers, not the system resolver");
  command.add_flag("--private-ok", args->private_ok,
                   "Private/loopback answers are expected (private endpoints, labs)");
  build = [args] {
    auto target = core::parse_target(args->host, std::nullopt, false);
    if (!target) usage_error(target.error().message);
    if (target->port != 0) usage_error("dns probe: give a host name without a port");
    if (core::is_ip_literal(target->host)) usage_error("dns probe: give a host name, not an IP");
    for (const auto& r : args->resolvers) {
      auto parsed = probes::parse_dns_server(r);
      if (!parsed) usage_error("--resolver: " + parsed.error().message);
    }
    if (args->no_system && args->resolvers.empty()) {
      usage_error("--no-system needs at least one --resolver");
    }
    probes::ProbeSpec spec;
    spec.id = "dns:" + target->host;
    spec.target = *target;
    probes::dns::DnsOptions options;
    options.reference_resolvers = args->resolvers;
    options.use_system_resolver = !args->no_system;
    options.private_answers_expected = args->private_ok;
    spec.options = options;
    return spec;
  };
}

const bool registered = register_probe_kind({"dns", 10, setup});

}  // namespace
}  // namespace gwprobe::cli
