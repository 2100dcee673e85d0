// The relay's listener (acceptor), the front session that completes TLS and reads the first
// request, the dispatcher that routes it by $hc action, small HTTP replies, /$metrics and
// /$status, and RelayServer's run/shut-down (two stages, Beast advanced-server shape).
#include <malloc.h>
#include <openssl/ssl.h>

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "core/url.hpp"
#include "gateway/relay/beast_common.hpp"
#include "gateway/relay/relay_server.hpp"

namespace gwprobe::gateway::relay {

namespace detail {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rendezvous_address(const std::string& base_url, const std::string& cluster,
                               protocol::HcAction action, const std::string& capability) {
  return protocol::hc_url(base_url, cluster, action, capability);
}

protocol::Headers headers_of(const Request& request) {
  protocol::Headers out;
  for (const auto& field : request) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

void configure_websocket(const ContextPtr& ctx, WsStream& ws, std::string subprotocol) {
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.handshake_timeout = ctx->config.limits.handshake_timeout;
  ws.set_option(timeouts);
  ws.read_message_max(ctx->config.limits.max_message_bytes);
  // Relay frames as they come: Beast's default re-fragments every write into 4 kB frames, which
  // costs a TLS record each and halves spliced throughput.
  ws.auto_fragment(false);
  websocket::permessage_deflate deflate;  // declined on every leg (reference A.4)
  deflate.server_enable = false;
  deflate.client_enable = false;
  ws.set_option(deflate);
  ws.set_option(websocket::stream_base::decorator(
      [protocol = std::move(subprotocol)](websocket::response_type& res) {
        res.set(http::field::server, kServerName);
        if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
      }));
}

namespace {

/// Writes one response, then shuts TLS down; owns the stream meanwhile.
class ReplySession : public std::enable_shared_from_this<ReplySession> {
 public:
  ReplySession(ContextPtr ctx, TlsStream stream, http::response<http::string_body> response)
      : ctx_(std::move(ctx)),
        stream_(std::move(stream)),
        response_(std::move(response)),
        deadline_(stream_.get_executor()) {}

  void run() {
    arm_deadline(deadline_, ctx_->config.limits.handshake_timeout, shared_from_this(), stream_);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&ReplySession::on_write, shared_from_this()));
  }

 private:
  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    stream_.async_shutdown(
        beast::bind_front_handler(&ReplySession::on_shutdown, shared_from_this()));
  }
  void on_shutdown(beast::error_code) { deadline_.cancel(); }

  ContextPtr ctx_;
  TlsStream stream_;
  http::response<http::string_body> response_;
  net::steady_timer deadline_;
};

void serve_admin(const ContextPtr& ctx, TlsStream stream, const Request& request,
                 const protocol::HcTarget& target, const Peer& peer) {
  http::response<http::string_body> res{http::status::ok, request.version()};
  res.set(http::field::server, kServerName);
  res.set(http::field::cache_control, "no-store");
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    reply_and_close(ctx, std::move(stream), peer, http::status::method_not_allowed,
                    "only GET is served here\n", false);
    return;
  }
  if (target.path == "$metrics") {
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = ctx->hub.metrics_text();
  } else if (target.request_target.find("format=json") != std::string::npos) {
    res.set(http::field::content_type, "application/json");
    res.body() = ctx->hub.status_json();
  } else {
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.body() = ctx->hub.status_html();
  }
  if (request.method() == http::verb::head) res.body().clear();
  res.keep_alive(false);
  res.prepare_payload();
  std::make_shared<ReplySession>(ctx, std::move(stream), std::move(res))->run();
}

// Reads one request: the first of a fresh connection (after the TLS handshake) or the next one
// on a kept-alive HTTP-mode connection. Answers "Expect: 100-continue" before the body.
class FrontSession : public std::enable_shared_from_this<FrontSession> {
 public:
  FrontSession(ContextPtr ctx, tcp::socket socket, Peer peer)
      : ctx_(std::move(ctx)),
        stream_(std::move(socket), ctx_->tls.native_handle()),
        deadline_(stream_.get_executor()),
        peer_(std::move(peer)) {
    ctx_->hub.connection_opened(ConnectionKind::handshake);
  }
  FrontSession(ContextPtr ctx, TlsStream stream, beast::flat_buffer buffer, Peer peer)
      : ctx_(std::move(ctx)),
        stream_(std::move(stream)),
        deadline_(stream_.get_executor()),
        buffer_(std::move(buffer)),
        peer_(std::move(peer)) {
    ctx_->hub.connection_opened(ConnectionKind::handshake);
  }
  ~FrontSession() { ctx_->hub.connection_closed(ConnectionKind::handshake); }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&FrontSession::on_run, shared_from_this()));
  }

  void read_next(std::chrono::milliseconds idle_limit) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), idle_limit] {
      arm_deadline(self->deadline_, idle_limit, self, self->stream_);
      self->read_header();
    });
  }

 private:
  void on_run() {
    arm_deadline(deadline_, ctx_->config.limits.handshake_timeout, shared_from_this(), stream_);
    stream_.async_handshake(
        beast::bind_front_handler(&FrontSession::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      deadline_.cancel();
      ctx_->hub.count("handshake_failures_total", "status", "tls");
      ctx_->log->debug("tls_handshake_failed", {{"remote", peer_.remote}, {"error", ec.message()}});
      return;
    }
    read_header();
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_->config.limits.max_header_bytes));
    parser_->body_limit(ctx_->config.limits.max_http_body_bytes);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&FrontSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) {
      on_read(ec, 0);
      return;
    }
    if (!parser_->is_done() &&
        beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // curl sends large bodies only after this (or after waiting a second for it).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (!wec) self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&FrontSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    deadline_.cancel();  // the next owner of the stream sets its own limits
    if (ec == http::error::body_limit) {
      reply_and_close(ctx_, std::move(stream_), peer_, http::status::payload_too_large,
                      "request body over the relay's limit\n", false);
      return;
    }
    if (ec == http::error::header_limit) {
      reply_and_close(ctx_, std::move(stream_), peer_,
                      http::status::request_header_fields_too_large, "request headers over 32 kB\n",
                      false);
      return;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != net::error::eof) {
        ctx_->hub.count("handshake_failures_total", "status", "http");
      }
      return;
    }
    dispatch_request(ctx_, std::move(stream_), std::move(buffer_), parser_->release(), peer_);
  }

  ContextPtr ctx_;
  TlsStream stream_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Peer peer_;
};

}  // namespace

void read_next_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                       Peer peer) {
  std::make_shared<FrontSession>(ctx, std::move(stream), std::move(buffer), std::move(peer))
      ->read_next(ctx->config.limits.http_keepalive_timeout);
}

void reply_and_close(const ContextPtr& ctx, TlsStream stream, const Peer& peer, http::status status,
                     std::string body, bool counts_as_failure) {
  const int code = static_cast<int>(status);
  ctx->hub.count("handshake_failures_total", "status", std::to_string(code));
  if (counts_as_failure) ctx->limiter.record_failure(peer.ip);
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, kServerName);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  std::make_shared<ReplySession>(ctx, std::move(stream), std::move(res))->run();
}

void dispatch_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                      Request request, Peer peer) {
  auto target = protocol::parse_hc_target(sv(request.target()));
  if (!target) {
    ctx->log->info("bad_request", {{"remote", peer.remote}, {"reason", target.error().message}});
    reply_and_close(ctx, std::move(stream), peer, http::status::bad_request,
                    target.error().message + "\n", true);
    return;
  }
  if (!target->hc && (target->path == "$metrics" || target->path == "$status")) {
    serve_admin(ctx, std::move(stream), request, *target, peer);
    return;
  }
  if (!target->hc) {
    serve_http_request(ctx, std::move(stream), std::move(buffer), std::move(request),
                       std::move(*target), std::move(peer));
    return;
  }
  if (!websocket::is_upgrade(request)) {
    reply_and_close(ctx, std::move(stream), peer, http::status::bad_request,
                    "a /$hc/ URL needs a WebSocket upgrade\n", true);
    return;
  }
  if (target->action == protocol::HcAction::accept) {
    serve_accept_rendezvous(ctx, std::move(stream), std::move(request), std::move(*target),
                            std::move(peer));
    return;
  }
  if (target->action == protocol::HcAction::request) {
    serve_request_rendezvous(ctx, std::move(stream), std::move(request), std::move(*target),
                             std::move(peer));
    return;
  }
  // listen and connect carry a SAS token: header first, then sb-hc-token (reference A.6 step 1).
  std::string token;
  if (auto it = request.find("ServiceBusAuthorization"); it != request.end()) {
    token = std::string(it->value());
  } else if (target->token) {
    token = *target->token;
  }
  const bool listen = target->action == protocol::HcAction::listen;
  const auto verdict = protocol::verify_sas_token(
      token, ctx->config.keys,
      protocol::TokenRequirement{
          target->path, listen ? protocol::Right::listen : protocol::Right::send, unix_now()});
  if (!verdict.ok()) {
    ctx->hub.count("auth_failures_total", "fault", protocol::to_string(verdict.fault));
    ctx->log->info("auth_failed", {{"remote", peer.remote},
                                   {"action", protocol::to_string(target->action)},
                                   {"path", target->path},
                                   {"fault", protocol::to_string(verdict.fault)},
                                   {"reason", verdict.reason}});
    reply_and_close(ctx, std::move(stream), peer,
                    static_cast<http::status>(protocol::handshake_status(verdict.fault)),
                    verdict.reason + "\n", true);
    return;
  }
  if (listen) {
    serve_control_channel(ctx, std::move(stream), std::move(request), std::move(*target),
                          verdict.rule, verdict.expires_at, std::move(peer));
  } else {
    serve_sender(ctx, std::move(stream), std::move(request), std::move(*target), false,
                 std::move(peer));
  }
}

}  // namespace detail

using namespace detail;

namespace {
/// OpenSSL's read-ahead buffer (held only while records are pending: RELEASE_BUFFERS).
constexpr std::size_t kTlsReadBuffer = 64 * 1024;
}  // namespace

struct RelayServer::State {
  State(ContextPtr context, int thread_count)
      : ioc(thread_count), ctx(std::move(context)), acceptor(net::make_strand(ioc)), signals(ioc) {}

  net::io_context ioc;
  ContextPtr ctx;
  tcp::acceptor acceptor;
  net::signal_set signals;
  std::optional<net::steady_timer> grace_timer;
  std::chrono::steady_clock::time_point grace_deadline;
  static constexpr std::chrono::milliseconds kDrainPoll{50};
  static constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
  std::optional<net::steady_timer> accept_retry;
  // glibc keeps the pages freed after a burst of TLS handshakes (each briefly needs tens of kB)
  // mapped between the long-lived listener sessions; trimming after a burst returns them.
  static constexpr std::chrono::seconds kTrimInterval{5};
  static constexpr std::uint64_t kTrimAfterConnections = 100;
  std::optional<net::steady_timer> trim_timer;
  std::uint64_t connections_at_last_trim = 0;

  void schedule_trim() {
    trim_timer->expires_after(kTrimInterval);
    trim_timer->async_wait([this](beast::error_code ec) {
      if (ec || shutdown_stage > 0) return;
      const auto total = ctx->hub.counter("connections_total");
      if (total - connections_at_last_trim >= kTrimAfterConnections &&
          ctx->hub.connections(ConnectionKind::handshake) == 0) {
        connections_at_last_trim = total;
        ::malloc_trim(0);
      }
      schedule_trim();
    });
  }
  std::atomic<int> shutdown_stage{0};

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        ctx->log->warn("accept_failed", {{"error", ec.message()}});
        // EMFILE and friends fail again at once: pause instead of spinning, then go on.
        accept_retry->expires_after(kAcceptRetryDelay);
        accept_retry->async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) do_accept();
        });
        return;
      }
      on_socket(std::move(socket));
      do_accept();
    });
  }

  void on_socket(tcp::socket socket) {
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) return;
    Peer peer;
    peer.ip = endpoint.address().to_string();
    peer.port = endpoint.port();
    peer.remote = (endpoint.address().is_v6() ? "[" + peer.ip + "]" : peer.ip) + ":" +
                  std::to_string(peer.port);
    ctx->hub.count("connections_total");
    // Blocked sources are dropped before the TLS handshake: that is what keeps a reconnect
    // storm from eating the CPU that healthy listeners need.
    if (ctx->limiter.blocked(peer.ip)) {
      ctx->hub.count("connections_refused_total", "reason", "rate_limited");
      socket.close(ec);
      return;
    }
    std::int64_t open = 0;
    for (int k = 0; k < static_cast<int>(ConnectionKind::count_); ++k) {
      open += ctx->hub.connections(static_cast<ConnectionKind>(k));
    }
    if (open >= static_cast<std::int64_t>(ctx->config.limits.max_connections)) {
      ctx->hub.count("connections_refused_total", "reason", "capacity");
      socket.close(ec);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<FrontSession>(ctx, std::move(socket), std::move(peer))->run();
  }

  void begin_shutdown() {
    const int stage = ++shutdown_stage;
    if (stage >= 2) {
      ctx->log->info("relay_stopping", {{"stage", 2}});
      ioc.stop();
      return;
    }
    ctx->log->info("relay_stopping",
                   {{"stage", 1},
                    {"grace_ms", static_cast<std::int64_t>(ctx->config.shutdown_grace.count())}});
    ctx->shutting_down = true;
    beast::error_code ec;
    acceptor.close(ec);
    if (trim_timer) trim_timer->cancel();
    if (accept_retry) accept_retry->cancel();
    ctx->hub.shut_down_all();
    grace_deadline = std::chrono::steady_clock::now() + ctx->config.shutdown_grace;
    grace_timer.emplace(ioc);
    check_drained();
    signals.cancel(ec);
    if (ctx->config.handle_signals) wait_for_signal();
  }

  // Stage one ends as soon as every connection has closed, or at the grace deadline.
  void check_drained() {
    std::int64_t open = 0;
    for (int k = 0; k < static_cast<int>(ConnectionKind::count_); ++k) {
      open += ctx->hub.connections(static_cast<ConnectionKind>(k));
    }
    if (open == 0 || std::chrono::steady_clock::now() >= grace_deadline) {
      ioc.stop();
      return;
    }
    grace_timer->expires_after(kDrainPoll);
    grace_timer->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) check_drained();
    });
  }

  void wait_for_signal() {
    signals.async_wait([this](beast::error_code ec, int) {
      if (ec == net::error::operation_aborted && shutdown_stage == 0) return;
      if (!ec) begin_shutdown();
    });
  }
};

core::Result<std::unique_ptr<RelayServer>> RelayServer::create(RelayConfig config,
                                                               std::shared_ptr<JsonLog> log) {
  if (config.keys.empty()) {
    return core::fail(core::FailureKind::invalid_input, "the relay needs at least one SAS rule");
  }
  ssl::context tls(ssl::context::tls_server);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  // Idle listeners are the common case: let OpenSSL free its record buffers between reads.
  SSL_CTX_set_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  // Read ahead: one recv() for several records instead of two per record (header, body).
  SSL_CTX_set_read_ahead(tls.native_handle(), 1);
  SSL_CTX_set_default_read_buffer_len(tls.native_handle(), kTlsReadBuffer);
  // Relay connections are long-lived: no server-side session cache to grow. Tickets stay on:
  // besides resumption, the ticket right after the handshake acknowledges the client's Finished
  // at once, which keeps Nagle-enabled clients from waiting out a 40 ms delayed ACK.
  SSL_CTX_set_session_cache_mode(tls.native_handle(), SSL_SESS_CACHE_OFF);
  beast::error_code ec;
  tls.use_certificate_chain_file(config.cert_file, ec);
  if (ec) {
    return core::fail(core::FailureKind::invalid_input,
                      "cannot load certificate '" + config.cert_file + "': " + ec.message());
  }
  tls.use_private_key_file(config.key_file, ssl::context::pem, ec);
  if (ec) {
    return core::fail(core::FailureKind::invalid_input,
                      "cannot load private key '" + config.key_file + "': " + ec.message());
  }
  if (SSL_CTX_check_private_key(tls.native_handle()) != 1) {
    return core::fail(core::FailureKind::invalid_input, "private key '" + config.key_file +
                                                            "' does not match certificate '" +
                                                            config.cert_file + "'");
  }
  const int threads = std::max(1, config.threads);
  auto ctx = std::make_shared<RelayContext>(std::move(config), std::move(log), std::move(tls));
  auto state = std::make_unique<State>(ctx, threads);
  const auto address = net::ip::make_address(ctx->config.listen_address, ec);
  if (ec) {
    return core::fail(core::FailureKind::invalid_input,
                      "bad listen address '" + ctx->config.listen_address + "'");
  }
  const tcp::endpoint endpoint(address, ctx->config.port);
  const std::string where = ctx->config.listen_address + ":" + std::to_string(ctx->config.port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail(core::FailureKind::network,
                      "cannot listen on " + where + ": " + ec.message());
  }
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(state)));
}

RelayServer::RelayServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
RelayServer::~RelayServer() = default;

std::uint16_t RelayServer::port() const {
  return state_->acceptor.local_endpoint().port();
}

RelayHub& RelayServer::hub() {
  return state_->ctx->hub;
}

void RelayServer::run() {
  auto& s = *state_;
  const auto& cfg = s.ctx->config;
  s.ctx->log->info("relay_listening",
                   {{"address", cfg.listen_address},
                    {"port", static_cast<int>(port())},
                    {"routing", to_string(cfg.routing)},
                    {"rules", s.ctx->config.keys.rules().size()},
                    {"ping_interval_ms", static_cast<std::int64_t>(cfg.ping_interval.count())},
                    {"max_load", cfg.max_load},
                    {"threads", std::max(1, cfg.threads)}});
  net::post(s.acceptor.get_executor(), [&s] { s.do_accept(); });
  s.trim_timer.emplace(s.ioc);
  s.accept_retry.emplace(s.acceptor.get_executor());
  s.schedule_trim();
  if (cfg.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.wait_for_signal();
  }
  std::vector<std::thread> extra;
  for (int i = 1; i < std::max(1, cfg.threads); ++i) extra.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : extra) t.join();
  s.ctx->log->info("relay_stopped");
}

void RelayServer::shut_down() {
  net::post(state_->ioc, [s = state_.get()] { s->begin_shutdown(); });
}

}  // namespace gwprobe::gateway::relay
