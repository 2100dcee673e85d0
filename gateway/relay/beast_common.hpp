// Private to gateway/relay's Beast translation units: stream types, the shared relay context
// and the entry points each TU offers the others. Never include this outside gateway/relay.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "gateway/protocol/capability.hpp"
#include "gateway/protocol/hc_url.hpp"
#include "gateway/protocol/messages.hpp"
#include "gateway/relay/hub.hpp"
#include "gateway/relay/json_log.hpp"
#include "gateway/relay/rate_limiter.hpp"
#include "gateway/relay/relay_config.hpp"
#include "gateway/relay/tls_socket.hpp"

namespace gwprobe::gateway::relay::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = TlsSocket;
using WsStream = websocket::stream<TlsStream>;
using Request = http::request<http::string_body>;

/// The Server header of every response the relay writes (handshakes, errors, HTTP mode).
inline constexpr const char* kServerName = "gwprobe-relay";

/// Shared by every session; sessions hold it by shared_ptr, so it outlives them all.
struct RelayContext {
  RelayContext(RelayConfig cfg, std::shared_ptr<JsonLog> log_sink, ssl::context tls_context)
      : config(std::move(cfg)),
        log(std::move(log_sink)),
        tls(std::move(tls_context)),
        hub(config.routing, config.max_load, config.limits.max_pending_accepts_per_cluster),
        capabilities(clock, config.limits.accept_timeout),
        limiter(clock, config.limits.auth_failures_allowed, config.limits.auth_failure_window,
                config.limits.auth_block_duration) {}

  const RelayConfig config;
  std::shared_ptr<JsonLog> log;
  ssl::context tls;
  core::SteadyClockSource clock;
  RelayHub hub;
  protocol::CapabilityIssuer capabilities;
  AuthFailureLimiter limiter;
  std::atomic<bool> shutting_down{false};
};
using ContextPtr = std::shared_ptr<RelayContext>;

/// What every handed-off connection carries along.
struct Peer {
  std::string remote;  ///< "ip:port", for logs and remoteEndpoint
  std::string ip;
  std::uint16_t port = 0;
};

/// An HTTP-mode request waiting for its response; the listener's answer arrives on a control
/// channel or a request rendezvous (another strand), so delivery posts to the session's strand.
class ResponseSink : public Waiter {
 public:
  /// Thread-safe.
  virtual void deliver(protocol::ResponseCommand response, std::string body) = 0;
  /// The full request, for an address-only request's rendezvous. Immutable once offered.
  virtual const std::string& full_request_json() const = 0;
  virtual std::shared_ptr<const std::string> request_body() const = 0;
  virtual bool address_only() const = 0;
};

// server.cpp
/// Writes a small response (Connection: close) and shuts the TLS stream down, bounded by the
/// handshake timeout. Counts the status and, for 400/401/403, the source's failure.
void reply_and_close(const ContextPtr& ctx, TlsStream stream, const Peer& peer, http::status status,
                     std::string body, bool counts_as_failure);
/// Routes a complete request read from a TLS stream (a fresh connection or the next request on
/// a keep-alive HTTP-mode connection).
void dispatch_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                      Request request, Peer peer);
/// Closes the connection's socket when `limit` passes (cancel the timer to disarm). The relay's
/// TLS layer drives the raw socket, so deadlines are timers rather than beast::tcp_stream's.
template <class Session>
void arm_deadline(net::steady_timer& timer, std::chrono::milliseconds limit,
                  const std::shared_ptr<Session>& session, TlsStream& stream) {
  timer.expires_after(limit);
  timer.async_wait([session, &stream](beast::error_code ec) {
    if (ec) return;
    beast::error_code ignored;
    stream.next_layer().close(ignored);
  });
}

/// Reads the next request of a kept-alive connection (idle limit: http_keepalive_timeout) and
/// dispatches it.
void read_next_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                       Peer peer);
/// Header list of a Beast request, in order.
protocol::Headers headers_of(const Request& request);
/// Common WebSocket settings: message limit, timeouts, no compression, Server header.
void configure_websocket(const ContextPtr& ctx, WsStream& ws, std::string subprotocol);

// websocket_sessions.cpp
void serve_control_channel(const ContextPtr& ctx, TlsStream stream, Request request,
                           protocol::HcTarget target, std::string rule, std::int64_t expires_at,
                           Peer peer);
void serve_sender(const ContextPtr& ctx, TlsStream stream, Request request,
                  protocol::HcTarget target, bool authorization_was_token, Peer peer);
void serve_accept_rendezvous(const ContextPtr& ctx, TlsStream stream, Request request,
                             protocol::HcTarget target, Peer peer);

// http_mode.cpp
void serve_http_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                        Request request, protocol::HcTarget target, Peer peer);
void serve_request_rendezvous(const ContextPtr& ctx, TlsStream stream, Request request,
                              protocol::HcTarget target, Peer peer);

/// Beast 1.74 uses boost::string_view; the protocol library takes std::string_view.
inline std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

/// Seconds since the Unix epoch (token expiry is wall-clock time).
std::int64_t unix_now();
/// "wss://host/$hc/<cluster>?sb-hc-action=<action>&sb-hc-id=<capability>".
std::string rendezvous_address(const std::string& base_url, const std::string& cluster,
                               protocol::HcAction action, const std::string& capability);

}  // namespace gwprobe::gateway::relay::detail
