// `gwprobe probe idle wss://HOST[:PORT]/PATH [--idle-required DUR] [--connections N]`
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "cli/websocket_flags.hpp"
#include "core/duration.hpp"
#include "probes/idle/idle_options.hpp"

namespace gwprobe::cli {
namespace {

struct IdleArgs {
  WebSocketFlags flags;
  std::string required = "300s";
  std::string margin;
  std::size_t connections = 8;
  std::string pong_timeout = "10s";
};

std::chrono::milliseconds duration_flag(const std::string& text, const char* name) {
  auto d = core::parse_duration(text);
  if (!d) usage_error(std::string(name) + ": " + d.error().message);
  if (d->count() == 0) usage_error(std::string(name) + ": must be more than 0");
  return *d;
}

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "Idle-timeout ladder: N WebSocket connections over the gateway's path held silent for "
      "different times up to the requirement, then pinged; brackets the cut (takes about the "
      "requirement; --timeout adds to it)");
  auto args = std::make_shared<IdleArgs>();
  add_websocket_flags(command, args->flags);
  command.add_option("--idle-required", args->required, "How long idle connections must survive")
      ->capture_default_str();
  command.add_option("--idle-margin", args->margin,
                     "How far above the requirement the last connection holds (default 10 %, at "
                     "least 1s)");
  command
      .add_option("--connections", args->connections,
                  "Connections in the ladder (2-32): more, a tighter bracket")
      ->capture_default_str();
  command
      .add_option("--pong-timeout", args->pong_timeout,
                  "How long a ping may wait for its pong before the path counts as a "
                  "silent drop")
      ->capture_default_str();
  build = [args] {
    auto ws = websocket_target(args->flags);
    probes::idle::IdleOptions options;
    options.websocket = std::move(ws.options);
    options.required =
        std::chrono::ceil<std::chrono::seconds>(duration_flag(args->required, "--idle-required"));
    if (!args->margin.empty()) options.margin = duration_flag(args->margin, "--idle-margin");
    if (args->connections < 2 || args->connections > 32) {
      usage_error("--connections: expected 2 to 32");
    }
    options.connections = args->connections;
    options.pong_timeout = duration_flag(args->pong_timeout, "--pong-timeout");
    probes::ProbeSpec spec;
    spec.id = "idle:" + ws.target.to_string();
    spec.target = ws.target;
    spec.options = std::move(options);
    return spec;
  };
}

const bool registered = register_probe_kind({"idle", 50, setup});

}  // namespace
}  // namespace gwprobe::cli
