// HTTP-mode senders (reference A.3, A.5): a plain HTTPS request becomes a `request` control
// message (body inline up to 64 kB, else an address-only request and the full request on a
// rendezvous); the listener's `response` comes back on the control channel or the rendezvous.
#include <chrono>

#include "gateway/protocol/crypto.hpp"
#include "gateway/relay/beast_common.hpp"

namespace gwprobe::gateway::relay::detail {

namespace {

constexpr const char* kVia = "1.1 gwprobe-relay";

class HttpSession : public ResponseSink,
                    public Closable,
                    public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(ContextPtr ctx, TlsStream stream, beast::flat_buffer buffer, Request request,
              protocol::HcTarget target, Peer peer)
      : ctx_(std::move(ctx)),
        stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        request_(std::move(request)),
        target_(std::move(target)),
        peer_(std::move(peer)),
        timer_(stream_.get_executor()),
        io_deadline_(stream_.get_executor()) {
    ctx_->hub.connection_opened(ConnectionKind::http);
  }
  ~HttpSession() override { ctx_->hub.connection_closed(ConnectionKind::http); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handle(); });
  }

  void deliver(protocol::ResponseCommand response, std::string body) override {
    net::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response),
                                       body = std::move(body)]() mutable {
      self->on_response(std::move(response), std::move(body));
    });
  }

  void fail(int status, std::string reason) override {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), status, reason = std::move(reason)]() mutable {
                if (!self->awaiting_) return;
                self->finish_waiting();
                self->respond_error(status, std::move(reason), false);
              });
  }

  void shut_down() override { fail(503, "relay shutting down"); }

  const std::string& full_request_json() const override { return full_request_json_; }
  std::shared_ptr<const std::string> request_body() const override { return body_; }
  bool address_only() const override { return address_only_; }

 private:
  void handle() {
    ctx_->hub.track(weak_from_this());
    // Token: ServiceBusAuthorization, then sb-hc-token, then (HTTP mode only) Authorization.
    std::string token;
    bool authorization_was_token = false;
    if (auto it = request_.find("ServiceBusAuthorization"); it != request_.end()) {
      token = std::string(it->value());
    } else if (target_.token) {
      token = *target_.token;
    } else if (auto auth = request_.find(http::field::authorization); auth != request_.end()) {
      token = std::string(auth->value());
      authorization_was_token = true;
    }
    const auto verdict = protocol::verify_sas_token(
        token, ctx_->config.keys,
        protocol::TokenRequirement{target_.path, protocol::Right::send, unix_now()});
    if (!verdict.ok()) {
      ctx_->hub.count("auth_failures_total", "fault", protocol::to_string(verdict.fault));
      ctx_->log->info("auth_failed", {{"remote", peer_.remote},
                                      {"action", "http"},
                                      {"path", target_.path},
                                      {"fault", protocol::to_string(verdict.fault)},
                                      {"reason", verdict.reason}});
      ctx_->limiter.record_failure(peer_.ip);
      respond_error(protocol::handshake_status(verdict.fault), verdict.reason, true);
      return;
    }
    auto pick = ctx_->hub.pick(target_.path);
    if (pick.fault != PickFault::none) {
      const bool none = pick.fault == PickFault::no_listener;
      respond_error(none ? 502 : 503,
                    none ? "no listener is connected for this path"
                         : "every listener for this path is over its load threshold",
                    false);
      return;
    }
    request_id_ = protocol::random_guid();
    capability_ = ctx_->capabilities.issue(protocol::CapabilityPurpose::request);
    protocol::RequestCommand full;
    full.address =
        rendezvous_address(pick.base_url, pick.cluster, protocol::HcAction::request, capability_);
    full.id = request_id_;
    full.request_target = target_.request_target;
    full.method = std::string(request_.method_string());
    full.request_headers =
        protocol::filter_request_headers(headers_of(request_), authorization_was_token);
    full.remote_endpoint = protocol::RemoteEndpoint{peer_.ip, peer_.port};
    full.body = !request_.body().empty();
    if (full.body) body_ = std::make_shared<const std::string>(std::move(request_.body()));
    std::size_t header_bytes = 0;
    for (const auto& [k, v] : full.request_headers) header_bytes += k.size() + v.size() + 4;

    ctx_->hub.add_pending(capability_, pick.cluster, pick.member, weak_from_this(), false);
    ctx_->hub.add_request(request_id_, pick.member, weak_from_this());
    awaiting_ = true;
    bool offered = false;
    const auto& limits = ctx_->config.limits;
    if ((!body_ || body_->size() <= limits.inline_body_bytes) &&
        header_bytes <= limits.max_header_bytes) {
      offered = pick.link->offer(protocol::serialize(full), body_);
    } else {
      address_only_ = true;
      full_request_json_ = protocol::serialize(full);
      protocol::RequestCommand announce;
      announce.address = full.address;
      announce.id = full.id;
      offered = pick.link->offer(protocol::serialize(announce), nullptr);
    }
    if (!offered) {
      finish_waiting();
      respond_error(503, "the listener's queue is full", false);
      return;
    }
    ctx_->log->debug("http_request_routed", {{"path", target_.path},
                                             {"cluster", pick.cluster},
                                             {"request", request_id_},
                                             {"address_only", address_only_}});
    timer_.expires_after(limits.http_response_timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->awaiting_) return;
      self->finish_waiting();
      self->respond_error(504, "the listener did not answer in time", false);
    });
  }

  void finish_waiting() {
    awaiting_ = false;
    timer_.cancel();
    ctx_->hub.drop_pending(capability_);
    ctx_->hub.remove_request(request_id_);
  }

  void on_response(protocol::ResponseCommand response, std::string body) {
    if (!awaiting_) return;
    finish_waiting();
    int status = response.status_code;
    if (status == 502 || status == 504) {
      // Reserved for the relay itself (reference A.3): a listener may not claim them.
      ctx_->log->warn("listener_reserved_status", {{"request", request_id_}, {"status", status}});
      status = 500;
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), request_.version());
    if (!response.status_description.empty()) res->reason(response.status_description);
    for (const auto& [k, v] : protocol::filter_response_headers(response.response_headers)) {
      res->insert(k, v);
    }
    res->set(http::field::via, kVia);
    res->body() = std::move(body);
    res->keep_alive(request_.keep_alive() && !ctx_->shutting_down);
    res->prepare_payload();
    write(std::move(res), status);
  }

  void respond_error(int status, std::string reason, bool force_close) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), request_.version());
    res->set(http::field::server, kServerName);
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->body() = std::move(reason) + "\n";
    res->keep_alive(!force_close && request_.keep_alive() && !ctx_->shutting_down);
    res->prepare_payload();
    write(std::move(res), status);
  }

  void write(std::shared_ptr<http::response<http::string_body>> res, int status) {
    ctx_->hub.count("http_requests_total", "status", std::to_string(status));
    ctx_->log->info("http_request", {{"path", target_.path},
                                     {"method", std::string(request_.method_string())},
                                     {"status", status},
                                     {"remote", peer_.remote}});
    arm_deadline(io_deadline_, ctx_->config.limits.http_response_timeout, shared_from_this(),
                 stream_);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        self->io_deadline_.cancel();
                        self->on_written(ec, res->keep_alive());
                      });
  }

  void on_written(beast::error_code ec, bool keep_alive) {
    if (ec) return;
    if (!keep_alive) {
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
      return;
    }
    // The next request on this connection goes back through the dispatcher.
    read_next_request(ctx_, std::move(stream_), std::move(buffer_), peer_);
  }

  ContextPtr ctx_;
  TlsStream stream_;
  beast::flat_buffer buffer_;
  Request request_;
  protocol::HcTarget target_;
  Peer peer_;
  net::steady_timer timer_;
  net::steady_timer io_deadline_;
  std::string request_id_;
  std::string capability_;
  std::string full_request_json_;
  std::shared_ptr<const std::string> body_;
  bool address_only_ = false;
  bool awaiting_ = false;
};

/// The listener opened a request address: push the full request if it was address-only, then
/// read the response (JSON, then one binary body message) and hand it to the HTTP session.
class RequestRendezvous : public Closable, public std::enable_shared_from_this<RequestRendezvous> {
 public:
  RequestRendezvous(ContextPtr ctx, TlsStream stream, Request request,
                    std::shared_ptr<ResponseSink> sink)
      : ctx_(std::move(ctx)),
        ws_(std::move(stream)),
        request_(std::move(request)),
        sink_(std::move(sink)) {
    ctx_->hub.connection_opened(ConnectionKind::rendezvous);
  }
  ~RequestRendezvous() override { ctx_->hub.connection_closed(ConnectionKind::rendezvous); }

  void start() {
    ctx_->hub.track(weak_from_this());
    configure_websocket(ctx_, ws_, {});
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = ctx_->config.limits.handshake_timeout;
    timeouts.idle_timeout =
        ctx_->config.limits.http_response_timeout;  // A.3: 60 s without progress
    ws_.set_option(timeouts);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      if (self->sink_->address_only()) {
        self->send_request();
      } else {
        self->read();
      }
    });
  }

  void shut_down() override {
    net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
      if (self->ws_.is_open()) {
        self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code) {});
      }
    });
  }

 private:
  void send_request() {
    ws_.text(true);
    ws_.async_write(net::buffer(sink_->full_request_json()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return;
                      auto body = self->sink_->request_body();
                      if (!body) {
                        self->read();
                        return;
                      }
                      self->ws_.binary(true);
                      self->ws_.async_write(net::buffer(*body),
                                            [self, body](beast::error_code wec, std::size_t) {
                                              if (!wec) self->read();
                                            });
                    });
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (!delivered_) sink_->fail(502, "the listener's rendezvous closed before its response");
      return;
    }
    std::string data = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (response_) {
      if (!ws_.got_binary()) {
        finish_bad("expected the response body as a binary message");
        return;
      }
      deliver(std::move(*response_), std::move(data));
      return;
    }
    if (ws_.got_binary()) {
      finish_bad("binary message before the response");
      return;
    }
    auto message = protocol::parse_control_message(data);
    if (!message || !std::holds_alternative<protocol::ResponseCommand>(*message)) {
      // The listener may send other commands first; anything that is not a response is skipped.
      read();
      return;
    }
    auto response = std::get<protocol::ResponseCommand>(std::move(*message));
    if (response.body) {
      response_ = std::move(response);
      read();
      return;
    }
    deliver(std::move(response), {});
  }

  void deliver(protocol::ResponseCommand response, std::string body) {
    delivered_ = true;
    sink_->deliver(std::move(response), std::move(body));
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) {});
  }

  void finish_bad(const char* why) {
    delivered_ = true;
    ctx_->log->warn("rendezvous_bad_message", {{"reason", why}});
    sink_->fail(502, why);
    ws_.async_close(websocket::close_code::protocol_error,
                    [self = shared_from_this()](beast::error_code) {});
  }

  ContextPtr ctx_;
  WsStream ws_;
  Request request_;
  std::shared_ptr<ResponseSink> sink_;
  beast::flat_buffer buffer_;
  std::optional<protocol::ResponseCommand> response_;
  bool delivered_ = false;
};

}  // namespace

void serve_http_request(const ContextPtr& ctx, TlsStream stream, beast::flat_buffer buffer,
                        Request request, protocol::HcTarget target, Peer peer) {
  std::make_shared<HttpSession>(ctx, std::move(stream), std::move(buffer), std::move(request),
                                std::move(target), std::move(peer))
      ->start();
}

void serve_request_rendezvous(const ContextPtr& ctx, TlsStream stream, Request request,
                              protocol::HcTarget target, Peer peer) {
  if (!target.id) {
    reply_and_close(ctx, std::move(stream), peer, http::status::bad_request, "missing sb-hc-id\n",
                    true);
    return;
  }
  const auto fault = ctx->capabilities.redeem(*target.id, protocol::CapabilityPurpose::request);
  if (fault != protocol::CapabilityFault::none) {
    ctx->hub.count("rendezvous_failures_total", "reason", protocol::to_string(fault));
    reply_and_close(ctx, std::move(stream), peer, http::status::forbidden,
                    "rendezvous address is " + std::string(protocol::to_string(fault)) + "\n",
                    true);
    return;
  }
  auto waiter = ctx->hub.take_pending(*target.id);
  if (!waiter) {
    ctx->hub.count("rendezvous_failures_total", "reason", "request_gone");
    reply_and_close(ctx, std::move(stream), peer, http::status::gone, "the request is gone\n",
                    false);
    return;
  }
  std::make_shared<RequestRendezvous>(ctx, std::move(stream), std::move(request),
                                      std::static_pointer_cast<ResponseSink>(waiter))
      ->start();
}

}  // namespace gwprobe::gateway::relay::detail
