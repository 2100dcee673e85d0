// WebSocket option checks.
#include "probes/websocket/websocket_options.hpp"

namespace gwprobe::probes::websocket {

core::Result<void> validate(const WebSocketOptions& options) {
  const auto bad = [](std::string message) {
    return core::fail(core::FailureKind::invalid_input, std::move(message));
  };
  if (options.path.empty() || options.path.front() != '/') {
    return bad("the WebSocket path must start with '/'");
  }
  if (options.forward_proxy) {
    if (options.use_tls) return bad("a forward-proxy upgrade is for ws:// only (wss:// tunnels)");
    if (!options.proxy || options.proxy->url.scheme != "http") {
      return bad("a forward-proxy upgrade needs an http:// proxy");
    }
    if (options.proxy->has_credentials() && options.proxy->auth != proxy::ProxyAuth::basic &&
        options.proxy->auth != proxy::ProxyAuth::any) {
      return core::fail(core::FailureKind::unsupported,
                        "a forward-proxy upgrade authenticates with Basic only (NTLM and "
                        "Negotiate need a CONNECT tunnel: use wss://)");
    }
  }
  if (options.use_tls) {
    if (auto valid = tls::validate(options.tls); !valid) return valid;
  }
  return {};
}

}  // namespace gwprobe::probes::websocket
