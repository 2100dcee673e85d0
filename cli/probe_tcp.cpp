// `gwprobe probe tcp HOST:PORT [-4|-6]`
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "core/target.hpp"

namespace gwprobe::cli {
namespace {

struct TcpArgs {
  std::string target;
  bool ipv4 = false;
  bool ipv6 = false;
  bool all = false;
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "Connect to HOST:PORT on every resolved address (filtered / refused / "
      "unreachable told apart)");
  auto args = std::make_shared<TcpArgs>();
  command.add_option("target", args->target, "HOST:PORT")->required();
  command.add_flag("-4", args->ipv4, "IPv4 addresses only");
  command.add_flag("-6", args->ipv6, "IPv6 addresses only");
  command.add_flag("--all", args->all, "Every address must connect (not just one)");
  build = [args] {
    auto target = core::parse_target(args->target);
    if (!target) usage_error(target.error().message);
    if (args->ipv4 && args->ipv6) usage_error("-4 and -6 exclude each other");
    probes::ProbeSpec spec;
    spec.id = "tcp:" + target->to_string();
    spec.target = *target;
    probes::tcp::TcpOptions options;
    options.family = args->ipv4   ? probes::tcp::AddressFamily::ipv4
                     : args->ipv6 ? probes::tcp::AddressFamily::ipv6
                                  : probes::tcp::AddressFamily::any;
    options.any_address_suffices = !args->all;
    spec.options = options;
    return spec;
  };
}

const bool registered = register_probe_kind({"tcp", 20, setup});

}  // namespace
}  // namespace gwprobe::cli
