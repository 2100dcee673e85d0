// WebSocket client connections on one event loop (Boost.Beast behind this header; the only
// Beast translation unit of the probes). The WebSocket probe uses one connection; the idle probe
// holds several at once and waits for whichever speaks first.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "probes/websocket/transport.hpp"
#include "probes/websocket/upgrade_verdict.hpp"
#include "probes/websocket/websocket_errors.hpp"

namespace gwprobe::probes::websocket {

/// The upgrade request. Secret headers (ServiceBusAuthorization, Proxy-Authorization) are
/// revealed only into the request on the wire.
struct UpgradeRequest {
  std::string host;    ///< Host header: "relay.example" or "relay.example:9443"
  std::string target;  ///< "/$hc/path?sb-hc-action=listen", or an absolute URI for a proxy
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, core::Secret>> secret_headers;
};

/// Something that happened on a connection.
struct ConnectionEvent {
  enum class Kind {
    pong,       ///< a pong arrived (payload in `detail`)
    message,    ///< a data message arrived (its text in `detail`)
    peer_ping,  ///< the far end pinged us (answered automatically)
    ended,      ///< the connection ended: `end` says how, `close_code` for close frames
  };
  std::size_t id = 0;
  Kind kind = Kind::pong;
  core::SteadyClock::time_point at{};
  ConnectionEnd end;
  int close_code = 0;        ///< WebSocket close code (close_frame only)
  std::string close_reason;  ///< its reason text
  std::string detail;
};

/// How a connection ended, for messages: "closed (FIN)", "reset (RST)", "closed with WebSocket
/// close code 1008 (reason)", "silent (no answer)", "aborted" or "failed (detail)".
std::string describe_end(const ConnectionEvent& e);

class WebSocketGroup {
 public:
  WebSocketGroup();
  ~WebSocketGroup();
  WebSocketGroup(const WebSocketGroup&) = delete;
  WebSocketGroup& operator=(const WebSocketGroup&) = delete;

  /// Adds a connection over `transport`; returns its id (0, 1, ...).
  std::size_t add(Transport transport);

  /// Sends the upgrade and reads the answer. A non-101 answer is a value (status, headers); an
  /// error only when no HTTP answer came: the transport failed (network), the answer was not
  /// HTTP (protocol), the deadline passed (timeout) or `cancel` fired (cancelled). After 101
  /// the Sec-WebSocket-Accept has been verified.
  core::Result<UpgradeAnswer> upgrade(std::size_t id, const UpgradeRequest& request,
                                      const core::Deadline& deadline,
                                      const core::CancelToken& cancel);

  /// After a 101: keeps a read pending, so that messages, pongs and the end of the connection
  /// (close frame, FIN, RST) arrive as events the moment they happen. Pings from the peer are
  /// answered automatically.
  void watch(std::size_t id);
  /// Sends a ping (the answer arrives as a pong event; watch() must be on).
  void ping(std::size_t id, const std::string& payload);
  /// Sends a text message. Messages queue behind one another, so several may be sent without
  /// waiting; pending_sends() says how many are not yet written (a sender that must not run
  /// ahead of the socket waits until it drops).
  void send_text(std::size_t id, const std::string& text);
  /// Text messages of `id` queued or being written: 0 once the socket took them all. After the
  /// connection ended it stays at the number that never went out (so 0 then means every
  /// message was written before the end).
  std::size_t pending_sends(std::size_t id) const;
  /// Runs the loop until at most `limit` text messages of `id` are unsent, the connection is no
  /// longer open, `until` passes or `cancel` fires. Events that arrive meanwhile stay queued for
  /// wait(). (wait() itself returns only on events, and a finished write is not one.)
  void drain(std::size_t id, std::size_t limit, core::SteadyClock::time_point until,
             const core::CancelToken& cancel);
  /// Sends a close frame (best effort, after the messages still queued) and stops watching.
  void close(std::size_t id);
  bool is_open(std::size_t id) const;

  /// Runs the loop until at least one event is ready, `until` passes or `cancel` fires; returns
  /// the events that are ready (none on timeout or cancel).
  std::vector<ConnectionEvent> wait(core::SteadyClock::time_point until,
                                    const core::CancelToken& cancel);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gwprobe::probes::websocket
