// `gwprobe probe proxy HOST:PORT [--proxy URL] [--proxy-user U[:P]] [--direct]`
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "cli/proxy_flags.hpp"
#include "core/target.hpp"

namespace gwprobe::cli {
namespace {

struct ProxyArgs {
  std::string target;
  bool direct = false;
  ProxyFlags proxy;
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "CONNECT to HOST:PORT through the proxy: its answer (status, Server, Via, the auth schemes "
      "it offers) and whether the tunnel opens");
  auto args = std::make_shared<ProxyArgs>();
  command.add_option("target", args->target, "HOST:PORT (port defaults to 443)")->required();
  command.add_flag("--direct", args->direct,
                   "Also connect to HOST:PORT directly and report which path works");
  add_proxy_flags(command, args->proxy);
  build = [args] {
    auto target = core::parse_target(args->target, 443);
    if (!target) usage_error(target.error().message);
    // The proxy under test is probed even when NO_PROXY would bypass it for this target.
    auto plan = resolve_proxy(args->proxy, {});
    if (!plan.proxy) {
      usage_error("no proxy to probe (" + plan.direct_reason +
                  "): give --proxy URL or set HTTPS_PROXY");
    }
    probes::ProbeSpec spec;
    spec.id = "proxy:" + target->to_string();
    spec.target = *target;
    probes::proxy::ProxyOptions options;
    options.proxy = *plan.proxy;
    options.compare_direct = args->direct;
    spec.options = options;
    return spec;
  };
}

const bool registered = register_probe_kind({"proxy", 35, setup});

}  // namespace
}  // namespace gwprobe::cli
