// `gwprobe probe e2e wss://HOST[:PORT]/$hc/PATH --key-name N --key-file F [--sql SQL]
// [--datasource N] [--ca-file F] [--proxy ...]`: a query through the relay to the gateway,
// verified by its trailer, as a one-check report.
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "cli/query_flags.hpp"

namespace gwprobe::cli {
namespace {

struct E2eArgs {
  QueryFlags flags;
  std::string sql = "SELECT 1";
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "A query through the relay to the gateway and back, its row count and SHA-256 verified: "
      "relay auth, no listener, a failed query and a corrupted result told apart");
  auto args = std::make_shared<E2eArgs>();
  add_query_flags(command, args->flags, "relay");
  command.add_option("--sql", args->sql, "The query to send")->capture_default_str();
  build = [args] {
    auto prepared = gateway::client::prepare_query(query_options(args->flags, args->sql));
    if (!prepared) usage_error(prepared.error().message);
    probes::ProbeSpec spec;
    spec.id = "e2e:" + prepared->target.to_string();
    spec.target = prepared->target;
    spec.options = std::move(prepared->options);
    return spec;
  };
}

const bool registered = register_probe_kind({"e2e", 45, setup});

}  // namespace
}  // namespace gwprobe::cli
