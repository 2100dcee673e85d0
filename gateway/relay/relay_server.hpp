// RelayServer: the public face of `gwprobe relay`. No Asio or Beast in this header, so the CLI
// and tests include it cheaply; the Beast code lives in server.cpp, websocket_sessions.cpp and
// http_mode.cpp.
#pragma once

#include <cstdint>
#include <memory>

#include "core/result.hpp"
#include "gateway/relay/hub.hpp"
#include "gateway/relay/json_log.hpp"
#include "gateway/relay/relay_config.hpp"

namespace gwprobe::gateway::relay {

class RelayServer {
 public:
  /// Loads the certificate and key, binds the listening socket (port 0 picks one) and returns
  /// a server ready to run. Fails with a one-line error naming the file or address.
  static core::Result<std::unique_ptr<RelayServer>> create(RelayConfig config,
                                                           std::shared_ptr<JsonLog> log);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Serves on `config.threads` threads (the caller's included) until shut down.
  void run();
  /// Thread-safe. Stage one: stop accepting, close listeners with 1001 and fail held senders;
  /// after `shutdown_grace` (or on a second call) stage two stops the event loop.
  void shut_down();
  /// Shared state, for tests and /status.
  RelayHub& hub();

  struct State;

 private:
  explicit RelayServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace gwprobe::gateway::relay
