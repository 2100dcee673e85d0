// `gwprobe probe websocket wss://HOST[:PORT]/PATH [--proxy URL] [--sas-key-name N --sas-key-file
// F]`
#include "cli/command.hpp"
#include "cli/probe_kind.hpp"
#include "cli/websocket_flags.hpp"

namespace gwprobe::cli {
namespace {

struct WebSocketArgs {
  WebSocketFlags flags;
  bool echo = false;
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "The gateway's WebSocket upgrade to the relay (through the proxy when one applies), then "
      "a ping round trip: stripped, denied, frames blocked or relay auth told apart");
  auto args = std::make_shared<WebSocketArgs>();
  add_websocket_flags(command, args->flags);
  command.add_flag("--echo", args->echo,
                   "Also send a text message and expect it back (echo servers, not a relay)");
  build = [args] {
    auto ws = websocket_target(args->flags);
    ws.options.echo = args->echo;
    probes::ProbeSpec spec;
    spec.id = "websocket:" + ws.target.to_string();
    spec.target = ws.target;
    spec.options = std::move(ws.options);
    return spec;
  };
}

const bool registered = register_probe_kind({"websocket", 40, setup});

}  // namespace
}  // namespace gwprobe::cli
