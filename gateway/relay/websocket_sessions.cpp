// WebSocket legs of the relay: listener control channels (accept/request out; renewToken,
// response, load reports in; pings and token expiry), held WebSocket senders, and the accept
// rendezvous that splices a sender to a listener. One strand per connection; every write goes
// through a bounded queue on its own strand.
#include <array>
#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/protocol/close_codes.hpp"
#include "gateway/protocol/crypto.hpp"
#include "gateway/relay/beast_common.hpp"

namespace gwprobe::gateway::relay::detail {

namespace {

namespace close_code = protocol::close_code;

/// Splice buffer per direction: frames are relayed as they arrive, never whole messages.
constexpr std::size_t kSpliceChunk = 64 * 1024;
/// Control-channel read piece: control messages are small; bodies just take more pieces.
constexpr std::size_t kControlReadChunk = 512;

// ---------------------------------------------------------------------------------------------
// Listener control channel
// ---------------------------------------------------------------------------------------------
class ControlSession : public ListenerLink,
                       public Closable,
                       public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(ContextPtr ctx, TlsStream stream, Request request, protocol::HcTarget target,
                 std::string rule, std::int64_t expires_at, Peer peer)
      : ctx_(std::move(ctx)),
        ws_(std::move(stream)),
        request_(std::move(request)),
        path_(std::move(target.path)),
        id_hint_(std::move(target.id)),
        priority_hint_(std::move(target.priority)),
        rule_(std::move(rule)),
        expires_at_(expires_at),
        peer_(std::move(peer)),
        timer_(ws_.get_executor()) {
    ctx_->hub.connection_opened(ConnectionKind::control);
  }
  ~ControlSession() override { ctx_->hub.connection_closed(ConnectionKind::control); }

  void start() {
    configure_websocket(ctx_, ws_, {});
    // The listener goes online as its 101 is built, just before it is written, not once the
    // write has completed: a listener that has read its 101 is routable, so a sender arriving
    // that moment is never told 404. What is offered meanwhile waits for the handshake.
    // (The decorator lives as long as the stream, a member: `this` is safe, and small.)
    ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      res.set(http::field::server, kServerName);
      if (res.result() == http::status::switching_protocols) go_online();
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) missed_pongs_ = 0;
    });
    writing_ = true;  // held until on_accept: no frame may go out before the 101
    ws_.async_accept(request_,
                     beast::bind_front_handler(&ControlSession::on_accept, shared_from_this()));
  }

  bool offer(std::string json, std::shared_ptr<const std::string> body) override {
    if (closing_.load()) return false;
    if (queued_.fetch_add(1) >= ctx_->config.limits.max_queued_messages) {
      --queued_;
      return false;
    }
    net::post(ws_.get_executor(), [self = shared_from_this(), json = std::move(json),
                                   body = std::move(body)]() mutable {
      self->queue_.push_back(
          Outgoing{std::make_shared<const std::string>(std::move(json)), false, true});
      if (body) self->queue_.push_back(Outgoing{std::move(body), true, false});
      if (!self->writing_) self->do_write();
    });
    return true;
  }

  void shut_down() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->close(close_code::going_away, "relay shutting down", "relay_shutdown");
    });
  }

 private:
  struct Outgoing {
    std::shared_ptr<const std::string> data;
    bool binary = false;
    bool counts = false;  // one per offer(): the text message
  };

  // Called from the handshake's response decorator, on this session's strand.
  void go_online() {
    if (member_ != 0) return;
    MemberInfo info;
    info.listener_id = id_hint_.value_or(protocol::random_guid());
    info.remote = peer_.remote;
    const auto host = request_[http::field::host];
    info.base_url = "wss://" + std::string(host.empty() ? ctx_->config.listen_address : host);
    info.rule = rule_;
    if (priority_hint_) {
      try {
        info.priority = std::stoi(*priority_hint_);
      } catch (const std::exception&) {
        info.priority = 0;  // a bad hint is not worth refusing a listener over
      }
    }
    listener_id_ = info.listener_id;
    member_ = ctx_->hub.add_member(path_, weak_from_this(), std::move(info));
    ctx_->hub.count("listener_connects_total");
    ctx_->log->info("listener_online", {{"path", path_},
                                        {"listener", listener_id_},
                                        {"remote", peer_.remote},
                                        {"rule", rule_},
                                        {"token_expires_at", expires_at_}});
  }

  void on_accept(beast::error_code ec) {
    // The handshake is done: an idle listener should cost as little as possible.
    request_ = {};
    id_hint_.reset();
    priority_hint_.reset();
    if (ec) {
      ctx_->log->info("listener_handshake_failed",
                      {{"remote", peer_.remote}, {"error", ec.message()}});
      drop_queue();
      if (member_ != 0) {  // the 101 was built but could not be written
        disconnect_reason_ = "handshake_failed";
        on_closed(ec);
      }
      return;
    }
    ctx_->hub.track(weak_from_this());
    if (ctx_->shutting_down) {
      close(close_code::going_away, "relay shutting down", "relay_shutdown");
      return;
    }
    next_ping_ = std::chrono::steady_clock::now() + ctx_->config.ping_interval;
    arm_timer();
    do_write();  // what was offered during the handshake; clears writing_ when there is none
    do_read();
  }

  // One timer per listener serves both the ping cadence and the token expiry: idle listeners
  // are the common case, and every armed timer costs memory.
  void arm_timer() {
    const auto now = std::chrono::steady_clock::now();
    const auto expiry =
        now + std::chrono::seconds(std::max<std::int64_t>(0, expires_at_ - unix_now()));
    timer_.expires_at(std::min(next_ping_, expiry));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    if (closing_) return;
    if (unix_now() >= expires_at_) {
      close(close_code::policy_violation, "token expired", "token_expired");
      return;
    }
    if (std::chrono::steady_clock::now() >= next_ping_) {
      next_ping_ = std::chrono::steady_clock::now() + ctx_->config.ping_interval;
      if (!ping_tick()) return;
    }
    arm_timer();
  }

  /// False when the listener was evicted.
  bool ping_tick() {
    if (missed_pongs_ >= ctx_->config.max_missed_pongs) {
      ctx_->log->warn("listener_evicted", {{"path", path_},
                                           {"listener", listener_id_},
                                           {"remote", peer_.remote},
                                           {"missed_pongs", missed_pongs_}});
      disconnect_reason_ = "ping_timeout";
      closing_ = true;
      // A listener that stopped answering will not answer a close handshake either.
      beast::error_code ec;
      beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(ws_).close(ec);
      return false;
    }
    if (!ping_in_flight_) {
      ping_in_flight_ = true;
      ++missed_pongs_;
      ws_.async_ping(
          {}, [self = shared_from_this()](beast::error_code) { self->ping_in_flight_ = false; });
    }
    return true;
  }

  void do_write() {
    if (queue_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    const auto& front = queue_.front();
    ws_.binary(front.binary);
    ws_.async_write(net::buffer(*front.data),
                    beast::bind_front_handler(&ControlSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (queue_.front().counts) --queued_;
    queue_.erase(queue_.begin());
    if (ec) {
      drop_queue();
      return;  // the read loop sees the failure and unregisters
    }
    do_write();
  }

  void drop_queue() {
    writing_ = false;
    for (const auto& item : queue_) {
      if (item.counts) --queued_;
    }
    queue_.clear();
  }

  // Reads in small pieces into a member array: a pending whole-message read would keep a
  // prepared buffer allocated per idle listener, and listeners idle far more than they talk.
  void do_read() {
    ws_.async_read_some(net::buffer(chunk_),
                        beast::bind_front_handler(&ControlSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) {
      on_closed(ec);
      return;
    }
    missed_pongs_ = 0;  // any traffic proves the listener alive
    message_.append(chunk_.data(), n);
    if (!ws_.is_message_done()) {
      do_read();
      return;
    }
    std::string data = std::exchange(message_, std::string());
    if (ws_.got_binary()) {
      on_binary(std::move(data));
    } else {
      on_text(data);
    }
    if (!closing_) do_read();
  }

  void on_text(const std::string& text) {
    auto message = protocol::parse_control_message(text);
    if (!message) {
      ctx_->log->warn("listener_bad_message",
                      {{"listener", listener_id_}, {"reason", message.error().message}});
      return;
    }
    std::visit([this](auto& m) { handle(m); }, *message);
  }

  void handle(protocol::RenewTokenCommand& renew) {
    const auto verdict = protocol::verify_sas_token(
        renew.token, ctx_->config.keys,
        protocol::TokenRequirement{path_, protocol::Right::listen, unix_now()});
    if (!verdict.ok()) {
      ctx_->hub.count("token_renewals_total", "result", "rejected");
      ctx_->hub.count("auth_failures_total", "fault", protocol::to_string(verdict.fault));
      ctx_->log->warn("token_renewal_rejected", {{"listener", listener_id_},
                                                 {"fault", protocol::to_string(verdict.fault)},
                                                 {"reason", verdict.reason}});
      close(close_code::policy_violation,
            "renewToken refused: " + std::string(protocol::to_string(verdict.fault)),
            "renew_rejected");
      return;
    }
    ctx_->hub.count("token_renewals_total", "result", "ok");
    expires_at_ = verdict.expires_at;
    ctx_->log->info("token_renewed",
                    {{"listener", listener_id_}, {"token_expires_at", expires_at_}});
    arm_timer();  // re-arming cancels the wait for the old expiry
  }

  void handle(protocol::ResponseCommand& response) {
    if (response.body) {
      awaiting_body_ = std::move(response);
      return;
    }
    deliver(std::move(response), {});
  }

  void handle(protocol::LoadReportCommand& load) {
    ctx_->hub.update_load(member_, load.cpu, load.memory);
  }

  void handle(protocol::UnknownCommand& unknown) {
    ctx_->log->debug("listener_unknown_message",
                     {{"listener", listener_id_}, {"name", unknown.name}});
  }

  template <class Other>
  void handle(Other&) {
    ctx_->log->warn(
        "listener_bad_message",
        {{"listener", listener_id_}, {"reason", "relay-to-listener command sent by the listener"}});
  }

  void on_binary(std::string body) {
    if (!awaiting_body_) {
      ctx_->log->warn("listener_bad_message", {{"listener", listener_id_},
                                               {"reason", "binary message without a response"}});
      return;
    }
    auto response = std::move(*awaiting_body_);
    awaiting_body_.reset();
    deliver(std::move(response), std::move(body));
  }

  void deliver(protocol::ResponseCommand response, std::string body) {
    auto waiter = ctx_->hub.find_request(response.request_id);
    if (!waiter) {
      ctx_->log->info("late_response",
                      {{"listener", listener_id_}, {"request", response.request_id}});
      return;
    }
    std::static_pointer_cast<ResponseSink>(waiter)->deliver(std::move(response), std::move(body));
  }

  void close(std::uint16_t code, std::string reason, std::string_view why) {
    if (closing_.exchange(true)) return;
    disconnect_reason_ = std::string(why);
    timer_.cancel();
    ctx_->log->info("listener_closing", {{"listener", listener_id_},
                                         {"code", static_cast<int>(code)},
                                         {"reason", disconnect_reason_}});
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                    [self = shared_from_this()](beast::error_code ec) {
                      // No read may be pending (close() can run from the read handler), so
                      // the member is unregistered here too; on_closed runs once either way.
                      self->on_closed(ec ? ec : beast::error_code(websocket::error::closed));
                    });
  }

  void on_closed(beast::error_code ec) {
    if (closed_reported_) return;
    closed_reported_ = true;
    closing_ = true;
    timer_.cancel();
    if (disconnect_reason_.empty()) {
      disconnect_reason_ =
          ec == websocket::error::closed ? "closed_by_listener" : "connection_lost";
    }
    ctx_->hub.remove_member(member_, disconnect_reason_);
    ctx_->hub.count("listener_disconnects_total", "reason", disconnect_reason_);
    ctx_->log->info("listener_offline", {{"path", path_},
                                         {"listener", listener_id_},
                                         {"remote", peer_.remote},
                                         {"reason", disconnect_reason_}});
  }

  ContextPtr ctx_;
  WsStream ws_;
  Request request_;
  std::string path_;
  std::optional<std::string> id_hint_;        // sb-hc-id, until registered
  std::optional<std::string> priority_hint_;  // gwprobe-priority, until registered
  std::string rule_;
  std::int64_t expires_at_;
  Peer peer_;
  net::steady_timer timer_;
  std::chrono::steady_clock::time_point next_ping_;
  std::array<char, kControlReadChunk> chunk_{};
  std::string message_;
  std::vector<Outgoing> queue_;  // bounded by max_queued_messages; a vector costs nothing idle
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> closing_{false};
  bool writing_ = false;
  bool ping_in_flight_ = false;
  bool closed_reported_ = false;
  int missed_pongs_ = 0;
  std::uint64_t member_ = 0;
  std::string listener_id_;
  std::string disconnect_reason_;
  std::optional<protocol::ResponseCommand> awaiting_body_;
};

// ---------------------------------------------------------------------------------------------
// Splice: two accepted WebSockets relaying frames both ways
// ---------------------------------------------------------------------------------------------
class Splice : public Closable, public std::enable_shared_from_this<Splice> {
 public:
  Splice(ContextPtr ctx, TlsStream sender, Request sender_request, TlsStream listener,
         Request listener_request, std::string subprotocol, std::string path)
      : ctx_(std::move(ctx)),
        sender_(std::move(sender)),
        listener_(std::move(listener)),
        sender_request_(std::move(sender_request)),
        listener_request_(std::move(listener_request)),
        subprotocol_(std::move(subprotocol)),
        path_(std::move(path)) {
    ctx_->hub.connection_opened(ConnectionKind::sender);
    ctx_->hub.connection_opened(ConnectionKind::rendezvous);
  }
  ~Splice() override {
    ctx_->hub.connection_closed(ConnectionKind::sender);
    ctx_->hub.connection_closed(ConnectionKind::rendezvous);
    ctx_->hub.count("spliced_bytes_total", {}, {}, bytes_.load());
  }

  /// Listener first (its handshake decides the subprotocol), then the held sender.
  void start() {
    ctx_->hub.track(weak_from_this());
    configure_websocket(ctx_, listener_, subprotocol_);
    configure_websocket(ctx_, sender_, subprotocol_);
    net::dispatch(listener_.get_executor(), [self = shared_from_this()] {
      self->listener_.async_accept(self->listener_request_,
                                   beast::bind_front_handler(&Splice::on_listener_accepted, self));
    });
  }

  void shut_down() override {
    net::dispatch(sender_.get_executor(), [self = shared_from_this()] {
      self->close_side(self->sender_, self->sender_closing_, close_code::going_away,
                       "relay shutting down");
    });
    net::dispatch(listener_.get_executor(), [self = shared_from_this()] {
      self->close_side(self->listener_, self->listener_closing_, close_code::going_away,
                       "relay shutting down");
    });
  }

 private:
  struct Pump {
    beast::flat_buffer buffer{kSpliceChunk};
    bool message_start = true;
    bool fin = false;
  };

  void on_listener_accepted(beast::error_code ec) {
    if (ec) {
      ctx_->log->info("rendezvous_handshake_failed", {{"path", path_}, {"error", ec.message()}});
      ctx_->hub.count("sender_connects_total", "result", "failed");
      // The sender still waits for its 101: tell it the listener side failed.
      net::dispatch(sender_.get_executor(), [self = shared_from_this()] {
        http::response<http::string_body> res{http::status::bad_gateway, 11};
        res.set(http::field::server, kServerName);
        res.body() = "the listener's rendezvous failed\n";
        res.keep_alive(false);
        res.prepare_payload();
        auto holder = std::make_shared<http::response<http::string_body>>(std::move(res));
        http::async_write(self->sender_.next_layer(), *holder,
                          [self, holder](beast::error_code, std::size_t) {});
      });
      return;
    }
    net::dispatch(sender_.get_executor(), [self = shared_from_this()] {
      self->sender_.async_accept(self->sender_request_,
                                 beast::bind_front_handler(&Splice::on_sender_accepted, self));
    });
  }

  void on_sender_accepted(beast::error_code ec) {
    if (ec) {
      ctx_->hub.count("sender_connects_total", "result", "failed");
      net::dispatch(listener_.get_executor(), [self = shared_from_this()] {
        self->close_side(self->listener_, self->listener_closing_, close_code::going_away,
                         "sender went away");
      });
      return;
    }
    ctx_->hub.count("sender_connects_total", "result", "accepted");
    ctx_->log->info("sender_spliced", {{"path", path_}, {"subprotocol", subprotocol_}});
    read(sender_, listener_, to_listener_);
    net::dispatch(listener_.get_executor(), [self = shared_from_this()] {
      self->read(self->listener_, self->sender_, self->to_sender_);
    });
  }

  // Runs on `from`'s strand.
  void read(WsStream& from, WsStream& to, Pump& pump) {
    from.async_read_some(
        pump.buffer.prepare(kSpliceChunk),
        [self = shared_from_this(), &from, &to, &pump](beast::error_code ec, std::size_t n) {
          self->on_read(from, to, pump, ec, n);
        });
  }

  void on_read(WsStream& from, WsStream& to, Pump& pump, beast::error_code ec, std::size_t n) {
    if (ec) {
      on_side_ended(from, to, ec);
      return;
    }
    pump.buffer.commit(n);
    pump.fin = from.is_message_done();
    const bool binary = from.got_binary();
    bytes_ += n;
    net::dispatch(to.get_executor(), [self = shared_from_this(), &from, &to, &pump, binary] {
      if (pump.message_start) to.binary(binary);
      to.async_write_some(pump.fin, pump.buffer.data(),
                          [self, &from, &to, &pump](beast::error_code wec, std::size_t) {
                            self->on_written(from, to, pump, wec);
                          });
    });
  }

  // Runs on `to`'s strand.
  void on_written(WsStream& from, WsStream& to, Pump& pump, beast::error_code ec) {
    pump.buffer.consume(pump.buffer.size());
    pump.message_start = pump.fin;
    if (ec) {
      // `to` failed; its own read loop reports the end. Stop this direction and close `from`.
      net::dispatch(from.get_executor(), [self = shared_from_this(), &from] {
        self->close_side(from,
                         &from == &self->sender_ ? self->sender_closing_ : self->listener_closing_,
                         close_code::going_away, "peer went away");
      });
      return;
    }
    net::dispatch(from.get_executor(),
                  [self = shared_from_this(), &from, &to, &pump] { self->read(from, to, pump); });
  }

  // `from` ended (on its strand): pass its close code on to the other side.
  void on_side_ended(WsStream& from, WsStream& to, beast::error_code ec) {
    std::uint16_t code = close_code::going_away;
    std::string reason = &from == &sender_ ? "sender went away" : "listener went away";
    if (ec == websocket::error::closed && from.reason().code != websocket::close_code::none) {
      code = static_cast<std::uint16_t>(from.reason().code);
      reason = std::string(from.reason().reason.c_str());
    } else if (ec == websocket::error::message_too_big) {
      code = close_code::message_too_big;
    }
    net::dispatch(to.get_executor(), [self = shared_from_this(), &to, code, reason] {
      self->close_side(to, &to == &self->sender_ ? self->sender_closing_ : self->listener_closing_,
                       code, reason);
    });
  }

  // On `ws`'s strand.
  void close_side(WsStream& ws, bool& closing, std::uint16_t code, const std::string& reason) {
    if (closing || !ws.is_open()) return;
    closing = true;
    ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                   [self = shared_from_this()](beast::error_code) {});
  }

  ContextPtr ctx_;
  WsStream sender_;
  WsStream listener_;
  Request sender_request_;
  Request listener_request_;
  std::string subprotocol_;
  std::string path_;
  Pump to_listener_;
  Pump to_sender_;
  bool sender_closing_ = false;    // sender_'s strand only
  bool listener_closing_ = false;  // listener_'s strand only
  std::atomic<std::uint64_t> bytes_{0};
};

// ---------------------------------------------------------------------------------------------
// Sender held until a listener accepts or rejects
// ---------------------------------------------------------------------------------------------
class SenderSession : public Waiter,
                      public Closable,
                      public std::enable_shared_from_this<SenderSession> {
 public:
  SenderSession(ContextPtr ctx, TlsStream stream, Request request, protocol::HcTarget target,
                bool authorization_was_token, Peer peer)
      : ctx_(std::move(ctx)),
        stream_(std::move(stream)),
        request_(std::move(request)),
        target_(std::move(target)),
        authorization_was_token_(authorization_was_token),
        peer_(std::move(peer)),
        timer_(stream_.get_executor()) {
    ctx_->hub.connection_opened(ConnectionKind::sender);
  }
  ~SenderSession() override { ctx_->hub.connection_closed(ConnectionKind::sender); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->route(); });
  }

  void fail(int status, std::string reason) override {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), status, reason = std::move(reason)]() mutable {
                self->finish_with(status, std::move(reason), "failed");
              });
  }

  void shut_down() override { fail(503, "relay shutting down"); }

  /// The listener asked to reject (sb-hc-statusCode): pass its status on.
  void reject(int status, std::string description) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), status, description = std::move(description)]() mutable {
                self->finish_with(status, std::move(description), "rejected");
              });
  }

  /// The listener opened the accept address: splice.
  void pair(TlsStream listener, Request listener_request, std::string subprotocol) {
    net::post(stream_.get_executor(), [self = shared_from_this(), listener = std::move(listener),
                                       listener_request = std::move(listener_request),
                                       subprotocol = std::move(subprotocol)]() mutable {
      if (self->done_) return;  // timed out meanwhile; the listener's stream just closes
      self->done_ = true;
      self->timer_.cancel();
      std::make_shared<Splice>(self->ctx_, std::move(self->stream_), std::move(self->request_),
                               std::move(listener), std::move(listener_request),
                               std::move(subprotocol), self->target_.path)
          ->start();
    });
  }

 private:
  void route() {
    ctx_->hub.track(weak_from_this());
    auto pick = ctx_->hub.pick(target_.path);
    if (pick.fault == PickFault::no_listener) {
      finish_with(404, "no listener is connected for this path", "no_listener");
      return;
    }
    if (pick.fault == PickFault::all_busy) {
      finish_with(503, "every listener for this path is over its load threshold", "busy");
      return;
    }
    capability_ = ctx_->capabilities.issue(protocol::CapabilityPurpose::accept);
    if (!ctx_->hub.add_pending(capability_, pick.cluster, pick.member, weak_from_this(), true)) {
      capability_.clear();
      finish_with(503, "too many senders waiting for this path", "busy");
      return;
    }
    protocol::AcceptCommand accept;
    accept.address =
        rendezvous_address(pick.base_url, pick.cluster, protocol::HcAction::accept, capability_);
    accept.id = target_.id.value_or(protocol::random_guid());
    accept.connect_headers =
        protocol::filter_connect_headers(headers_of(request_), authorization_was_token_);
    accept.remote_endpoint = protocol::RemoteEndpoint{peer_.ip, peer_.port};
    if (!pick.link->offer(protocol::serialize(accept), nullptr)) {
      finish_with(503, "the listener's queue is full", "busy");
      return;
    }
    ctx_->log->info("sender_waiting", {{"path", target_.path},
                                       {"cluster", pick.cluster},
                                       {"id", accept.id},
                                       {"remote", peer_.remote}});
    timer_.expires_after(ctx_->config.limits.accept_timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->finish_with(504, "the listener did not accept in time", "timeout");
    });
  }

  void finish_with(int status, std::string reason, std::string_view result) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    if (!capability_.empty()) ctx_->hub.drop_pending(capability_);
    ctx_->hub.count("sender_connects_total", "result", result);
    ctx_->log->info(
        "sender_refused",
        {{"path", target_.path}, {"status", status}, {"result", result}, {"remote", peer_.remote}});
    const auto http_status = status >= 400 && status <= 599 ? static_cast<http::status>(status)
                                                            : http::status::forbidden;
    reply_and_close(ctx_, std::move(stream_), peer_, http_status, reason + "\n", false);
  }

  ContextPtr ctx_;
  TlsStream stream_;
  Request request_;
  protocol::HcTarget target_;
  bool authorization_was_token_;
  Peer peer_;
  net::steady_timer timer_;
  std::string capability_;
  bool done_ = false;
};

}  // namespace

void serve_control_channel(const ContextPtr& ctx, TlsStream stream, Request request,
                           protocol::HcTarget target, std::string rule, std::int64_t expires_at,
                           Peer peer) {
  std::make_shared<ControlSession>(ctx, std::move(stream), std::move(request), std::move(target),
                                   std::move(rule), expires_at, std::move(peer))
      ->start();
}

void serve_sender(const ContextPtr& ctx, TlsStream stream, Request request,
                  protocol::HcTarget target, bool authorization_was_token, Peer peer) {
  std::make_shared<SenderSession>(ctx, std::move(stream), std::move(request), std::move(target),
                                  authorization_was_token, std::move(peer))
      ->start();
}

void serve_accept_rendezvous(const ContextPtr& ctx, TlsStream stream, Request request,
                             protocol::HcTarget target, Peer peer) {
  if (!target.id) {
    reply_and_close(ctx, std::move(stream), peer, http::status::bad_request, "missing sb-hc-id\n",
                    true);
    return;
  }
  const auto fault = ctx->capabilities.redeem(*target.id, protocol::CapabilityPurpose::accept);
  if (fault != protocol::CapabilityFault::none) {
    ctx->hub.count("rendezvous_failures_total", "reason", protocol::to_string(fault));
    ctx->log->info("rendezvous_refused",
                   {{"remote", peer.remote}, {"reason", protocol::to_string(fault)}});
    reply_and_close(ctx, std::move(stream), peer, http::status::forbidden,
                    "rendezvous address is " + std::string(protocol::to_string(fault)) + "\n",
                    true);
    return;
  }
  auto waiter = ctx->hub.take_pending(*target.id);
  if (!waiter) {
    ctx->hub.count("rendezvous_failures_total", "reason", "sender_gone");
    reply_and_close(ctx, std::move(stream), peer, http::status::gone, "the sender is gone\n",
                    false);
    return;
  }
  auto sender = std::static_pointer_cast<SenderSession>(waiter);
  if (target.status_code) {
    // A reject: the listener's handshake gets 410 (the "correct" failure), the sender its status.
    auto status = protocol::parse_status_code(*target.status_code);
    sender->reject(status ? *status : 403,
                   target.status_description.value_or("rejected by the listener"));
    reply_and_close(ctx, std::move(stream), peer, http::status::gone, "rejection delivered\n",
                    false);
    return;
  }
  // hyco-ws sends the one subprotocol it picked; take the first token if it sent a list.
  std::string subprotocol(request[http::field::sec_websocket_protocol]);
  if (const auto comma = subprotocol.find(','); comma != std::string::npos)
    subprotocol.resize(comma);
  while (!subprotocol.empty() && subprotocol.back() == ' ') subprotocol.pop_back();
  sender->pair(std::move(stream), std::move(request), std::move(subprotocol));
}

}  // namespace gwprobe::gateway::relay::detail
