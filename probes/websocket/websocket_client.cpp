// WebSocketGroup on Boost.Beast: websocket::stream over an adapter that turns a non-blocking
// Transport (socket, proxy tunnel or TLS session) into an Asio async stream, waiting on the
// transport's descriptor with posix::stream_descriptor. One io_context per group, driven only
// from the calling thread (upgrade(), wait()), so nothing here needs a lock.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange under C++20

#include "probes/websocket/websocket_client.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <deque>
#include <functional>

#include "core/version.hpp"

namespace gwprobe::probes::websocket {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using beast::error_code;

/// The longest Beast may buffer of one incoming message (a relay's control messages are small;
/// an echo test sends a few bytes).
constexpr std::size_t kMaxMessage = std::size_t{1} << 20;

/// An Asio AsyncStream over a Transport: each operation first tries the transport without
/// blocking and, when it asks to wait, waits for the descriptor's readiness in the direction it
/// asked for, then tries again.
class TransportStream {
 public:
  using executor_type = net::io_context::executor_type;

  TransportStream(net::io_context& io, Transport& transport)
      : io_(io), transport_(transport), fd_(io) {
    error_code ec;
    const int fd = ::dup(transport.poll_fd());
    if (fd >= 0) fd_.assign(fd, ec);
    if (fd < 0 || ec) {
      if (fd >= 0 && ec) ::close(fd);
      closed_ = true;  // every operation then fails at once
    }
  }

  executor_type get_executor() noexcept { return io_.get_executor(); }

  template <class Buffers, class Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    return net::async_initiate<Handler, void(error_code, std::size_t)>(
        [](auto h, const Buffers& b, TransportStream* self) { self->read_step(std::move(h), b); },
        handler, buffers, this);
  }

  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return net::async_initiate<Handler, void(error_code, std::size_t)>(
        [](auto h, const Buffers& b, TransportStream* self) { self->write_step(std::move(h), b); },
        handler, buffers, this);
  }

  /// Aborts pending operations (they complete with operation_aborted) and fails later ones.
  void close() noexcept {
    closed_ = true;
    error_code ignored;
    fd_.close(ignored);
  }

  /// TLS close_notify, then no more writes (teardown of a WebSocket close).
  void shutdown() noexcept { transport_.shutdown(); }

  /// The text of the last TLS failure (error codes cannot carry it).
  const std::string& last_detail() const noexcept { return last_detail_; }

  friend void beast_close_socket(TransportStream& s) { s.close(); }

 private:
  template <class Handler>
  void complete(Handler h, error_code ec, std::size_t n) {
    net::post(io_, [h = std::move(h), ec, n]() mutable { h(ec, n); });
  }

  error_code error_of(const Transport::Io& io) {
    if (io.status == Transport::Io::Status::eof) return net::error::eof;
    if (io.sys_errno != 0 && io.detail.empty()) {
      return {io.sys_errno, boost::system::system_category()};
    }
    last_detail_ = io.detail;
    return make_error_code(TransportErrc::tls_failed);
  }

  template <class Handler, class Buffers>
  void read_step(Handler h, const Buffers& buffers) {
    if (closed_) return complete(std::move(h), net::error::operation_aborted, 0);
    net::mutable_buffer target;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      const net::mutable_buffer b(*it);
      if (b.size() > 0) {
        target = b;
        break;
      }
    }
    if (target.size() == 0) return complete(std::move(h), error_code{}, 0);
    const auto io =
        transport_.read_some(std::span(static_cast<std::byte*>(target.data()), target.size()));
    using S = Transport::Io::Status;
    if (io.status == S::ok) return complete(std::move(h), error_code{}, io.bytes);
    if (io.status == S::want_read || io.status == S::want_write) {
      const auto direction = io.status == S::want_read ? net::posix::descriptor_base::wait_read
                                                       : net::posix::descriptor_base::wait_write;
      fd_.async_wait(direction, [this, h = std::move(h), buffers](error_code ec) mutable {
        if (ec) return h(ec, 0);
        read_step(std::move(h), buffers);
      });
      return;
    }
    complete(std::move(h), error_of(io), 0);
  }

  template <class Handler, class Buffers>
  void write_step(Handler h, const Buffers& buffers) {
    if (closed_) return complete(std::move(h), net::error::operation_aborted, 0);
    net::const_buffer source;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      const net::const_buffer b(*it);
      if (b.size() > 0) {
        source = b;
        break;
      }
    }
    if (source.size() == 0) return complete(std::move(h), error_code{}, 0);
    const auto io = transport_.write_some(
        std::span(static_cast<const std::byte*>(source.data()), source.size()));
    using S = Transport::Io::Status;
    if (io.status == S::ok) return complete(std::move(h), error_code{}, io.bytes);
    if (io.status == S::want_read || io.status == S::want_write) {
      const auto direction = io.status == S::want_read ? net::posix::descriptor_base::wait_read
                                                       : net::posix::descriptor_base::wait_write;
      fd_.async_wait(direction, [this, h = std::move(h), buffers](error_code ec) mutable {
        if (ec) return h(ec, 0);
        write_step(std::move(h), buffers);
      });
      return;
    }
    // A write into a closed connection is a reset (EPIPE), not an orderly end.
    complete(std::move(h), io.status == S::eof ? net::error::broken_pipe : error_of(io), 0);
  }

  net::io_context& io_;
  Transport& transport_;
  net::posix::stream_descriptor fd_;
  bool closed_ = false;
  std::string last_detail_;
};

// Beast's customization points for closing the layer under a WebSocket (found by ADL).
[[maybe_unused]] void teardown(beast::role_type, TransportStream& stream, error_code& ec) {
  stream.shutdown();
  stream.close();
  ec = {};
}

template <class Handler>
void async_teardown(beast::role_type, TransportStream& stream, Handler&& handler) {
  stream.shutdown();
  stream.close();
  net::post(stream.get_executor(),
            [h = std::forward<Handler>(handler)]() mutable { h(error_code{}); });
}

/// Watches a CancelToken's descriptor inside the loop for one wait.
class CancelWatch {
 public:
  CancelWatch(net::io_context& io, const core::CancelToken& cancel) : fd_(io) {
    const int fd = ::dup(cancel.fd());
    error_code ec;
    if (fd >= 0) fd_.assign(fd, ec);
    if (fd < 0 || ec) {
      if (fd >= 0) ::close(fd);
      return;
    }
    fd_.async_wait(net::posix::descriptor_base::wait_read,
                   [fired = fired_](error_code e) { *fired = !e; });
  }
  ~CancelWatch() {
    error_code ignored;
    fd_.close(ignored);  // its handler runs (aborted) with the next loop turn
  }
  CancelWatch(const CancelWatch&) = delete;
  CancelWatch& operator=(const CancelWatch&) = delete;

 private:
  std::shared_ptr<bool> fired_ = std::make_shared<bool>(false);
  net::posix::stream_descriptor fd_;
};

}  // namespace

struct WebSocketGroup::Impl {
  struct Connection {
    Connection(net::io_context& io, Transport t) : transport(std::move(t)), ws(io, transport) {}
    Transport transport;  // declared before ws: the stream adapter refers to it
    ws::stream<TransportStream> ws;
    beast::flat_buffer buffer;
    ws::response_type response;
    std::deque<std::string> outgoing;  ///< text messages to send; front() is being written
    bool open = false;                 ///< upgraded and not ended
    bool watching = false;             ///< a read is pending
    bool closing = false;              ///< we closed it: its end is not an event
    bool close_after_writes = false;   ///< close() came while messages were queued
  };

  net::io_context io;  // declared first: destroyed after the connections' descriptors
  std::vector<std::unique_ptr<Connection>> connections;
  std::deque<ConnectionEvent> events;

  ~Impl() {
    for (auto& c : connections) c->ws.next_layer().close();
    io.restart();
    io.poll();  // lets aborted handlers finish while everything they refer to still exists
  }

  Connection& at(std::size_t id) { return *connections.at(id); }

  void push_end(std::size_t id, const error_code& ec) {
    auto& c = at(id);
    if (!c.open) return;  // one end per connection
    c.open = false;
    c.watching = false;
    if (c.closing) return;
    ConnectionEvent e;
    e.id = id;
    e.kind = ConnectionEvent::Kind::ended;
    e.at = core::SteadyClock::now();
    e.end = from_asio(ec);
    if (ec == make_error_code(TransportErrc::tls_failed)) {
      e.end.detail = c.ws.next_layer().last_detail();
    }
    if (e.end.kind == EndKind::close_frame) {
      e.close_code = static_cast<int>(c.ws.reason().code);
      e.close_reason = std::string(c.ws.reason().reason.c_str());
    }
    events.push_back(std::move(e));
  }

  void start_read(std::size_t id) {
    auto& c = at(id);
    c.ws.async_read(c.buffer, [this, id](error_code ec, std::size_t) {
      auto& conn = at(id);
      if (ec) return push_end(id, ec);
      ConnectionEvent e;
      e.id = id;
      e.kind = ConnectionEvent::Kind::message;
      e.at = core::SteadyClock::now();
      e.detail = beast::buffers_to_string(conn.buffer.data());
      conn.buffer.consume(conn.buffer.size());
      events.push_back(std::move(e));
      if (conn.open && conn.watching) start_read(id);
    });
  }

  /// Writes the front of `id`'s queue, then the next one.
  void write_next(std::size_t id) {
    auto& c = at(id);
    c.ws.text(true);
    c.ws.async_write(net::buffer(c.outgoing.front()), [this, id](error_code ec, std::size_t) {
      auto& conn = at(id);
      if (ec) return push_end(id, ec);  // the unsent messages stay counted: they never went out
      conn.outgoing.pop_front();
      if (!conn.outgoing.empty() && conn.open) return write_next(id);
      if (conn.outgoing.empty() && conn.close_after_writes && conn.open && !conn.closing) {
        close_now(id);
      }
    });
  }

  void close_now(std::size_t id) {
    auto& c = at(id);
    c.closing = true;
    c.ws.async_close(ws::close_code::normal,
                     [this, id](error_code) { at(id).ws.next_layer().close(); });
  }

  enum class Outcome { done, timed_out, cancelled };

  /// Runs the loop until `done()`, the deadline or the cancel token.
  Outcome run_until(const std::function<bool()>& done, const core::Deadline& deadline,
                    const core::CancelToken& cancel) {
    CancelWatch watch(io, cancel);
    for (;;) {
      if (done()) return Outcome::done;
      if (cancel.cancelled()) return Outcome::cancelled;
      if (deadline.expired()) return Outcome::timed_out;
      if (io.stopped()) io.restart();
      io.run_one_until(deadline.is_never() ? core::SteadyClock::now() + std::chrono::hours(1)
                                           : deadline.when());
    }
  }
};

std::string describe_end(const ConnectionEvent& e) {
  switch (e.end.kind) {
    case EndKind::fin:
      return "closed (FIN)";
    case EndKind::rst:
      return "reset (RST)";
    case EndKind::close_frame:
      return "closed with WebSocket close code " + std::to_string(e.close_code) +
             (e.close_reason.empty() ? std::string() : " (" + e.close_reason + ")");
    case EndKind::blackhole:
      return "silent (no answer)";
    case EndKind::aborted:
      return "aborted";
    case EndKind::failed:
      break;
  }
  return "failed (" + e.end.detail + ")";
}

WebSocketGroup::WebSocketGroup() : impl_(std::make_unique<Impl>()) {}
WebSocketGroup::~WebSocketGroup() = default;

std::size_t WebSocketGroup::add(Transport transport) {
  auto c = std::make_unique<Impl::Connection>(impl_->io, std::move(transport));
  c->ws.read_message_max(kMaxMessage);
  c->ws.auto_fragment(false);
  const std::size_t id = impl_->connections.size();
  c->ws.control_callback([impl = impl_.get(), id](ws::frame_type kind, beast::string_view payload) {
    if (kind == ws::frame_type::close) return;  // the pending read reports the close
    ConnectionEvent e;
    e.id = id;
    e.kind = kind == ws::frame_type::pong ? ConnectionEvent::Kind::pong
                                          : ConnectionEvent::Kind::peer_ping;
    e.at = core::SteadyClock::now();
    e.detail = std::string(payload);
    impl->events.push_back(std::move(e));
  });
  impl_->connections.push_back(std::move(c));
  return id;
}

core::Result<UpgradeAnswer> WebSocketGroup::upgrade(std::size_t id, const UpgradeRequest& request,
                                                    const core::Deadline& deadline,
                                                    const core::CancelToken& cancel) {
  auto& c = impl_->at(id);
  c.ws.set_option(ws::stream_base::decorator([&request](ws::request_type& r) {
    r.set(beast::http::field::user_agent, std::string("gwprobe/") + core::kVersion);
    for (const auto& [name, value] : request.headers) r.set(name, value);
    // The one place these secrets leave their wrappers: into the request on the wire.
    for (const auto& [name, value] : request.secret_headers) r.set(name, value.reveal());
  }));
  bool done = false;
  error_code result;
  c.ws.async_handshake(c.response, request.host, request.target, [&](error_code ec) {
    done = true;
    result = ec;
  });
  // The request is built: the decorator (which refers to `request`) is not needed any more.
  c.ws.set_option(ws::stream_base::decorator([](ws::request_type&) {}));
  const auto outcome = impl_->run_until([&] { return done; }, deadline, cancel);
  if (outcome != Impl::Outcome::done) {
    c.ws.next_layer().close();
    while (!done) {
      if (impl_->io.stopped()) impl_->io.restart();
      impl_->io.run_one();
    }
    return outcome == Impl::Outcome::cancelled
               ? core::fail(core::FailureKind::cancelled, "cancelled while waiting for the answer")
               : core::fail(core::FailureKind::timeout,
                            "no answer to the upgrade before the deadline");
  }

  const bool answered = !result || result == ws::error::upgrade_declined ||
                        result == ws::error::bad_sec_accept || result == ws::error::no_sec_accept ||
                        result == ws::error::no_upgrade ||
                        result == ws::error::no_connection_upgrade;
  if (!answered) {
    const auto end = from_asio(result);
    const std::string detail = result == make_error_code(TransportErrc::tls_failed)
                                   ? c.ws.next_layer().last_detail()
                                   : end.detail;
    if (end.kind == EndKind::fin || end.kind == EndKind::rst) {
      return core::fail(core::FailureKind::network,
                        std::string(end.kind == EndKind::fin ? "the connection was closed (FIN)"
                                                             : "the connection was reset (RST)") +
                            " instead of an answer to the upgrade",
                        detail);
    }
    return core::fail(core::FailureKind::protocol, "the answer to the upgrade is not valid HTTP",
                      detail);
  }
  UpgradeAnswer answer;
  answer.status = static_cast<int>(c.response.result_int());
  answer.reason = std::string(c.response.reason());
  for (const auto& field : c.response) {
    answer.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (answer.status == 101 && result) {
    return core::fail(core::FailureKind::protocol,
                      "the 101 answer is not a valid WebSocket handshake (" + result.message() +
                          "): something on the path rewrote it");
  }
  if (answer.status == 101) c.open = true;
  return answer;
}

void WebSocketGroup::watch(std::size_t id) {
  auto& c = impl_->at(id);
  if (!c.open || c.watching) return;
  c.watching = true;
  impl_->start_read(id);
}

void WebSocketGroup::ping(std::size_t id, const std::string& payload) {
  auto& c = impl_->at(id);
  if (!c.open) return;
  c.ws.async_ping(ws::ping_data(payload.substr(0, ws::ping_data().max_size())),
                  [impl = impl_.get(), id](error_code ec) {
                    if (ec) impl->push_end(id, ec);
                  });
}

void WebSocketGroup::send_text(std::size_t id, const std::string& text) {
  auto& c = impl_->at(id);
  if (!c.open || c.closing || c.close_after_writes) return;
  c.outgoing.push_back(text);
  if (c.outgoing.size() == 1) impl_->write_next(id);
}

std::size_t WebSocketGroup::pending_sends(std::size_t id) const {
  return impl_->connections.at(id)->outgoing.size();
}

void WebSocketGroup::drain(std::size_t id, std::size_t limit, core::SteadyClock::time_point until,
                           const core::CancelToken& cancel) {
  const auto& c = impl_->at(id);
  impl_->run_until([&] { return !c.open || c.outgoing.size() <= limit; }, core::Deadline::at(until),
                   cancel);
}

void WebSocketGroup::close(std::size_t id) {
  auto& c = impl_->at(id);
  if (!c.open || c.closing) return;
  if (!c.outgoing.empty()) {
    // The queued messages go first (a close frame must not overtake them).
    c.close_after_writes = true;
    return;
  }
  impl_->close_now(id);
}

bool WebSocketGroup::is_open(std::size_t id) const {
  return impl_->at(id).open;
}

std::vector<ConnectionEvent> WebSocketGroup::wait(core::SteadyClock::time_point until,
                                                  const core::CancelToken& cancel) {
  impl_->run_until([&] { return !impl_->events.empty(); }, core::Deadline::at(until), cancel);
  std::vector<ConnectionEvent> out(impl_->events.begin(), impl_->events.end());
  impl_->events.clear();
  return out;
}

}  // namespace gwprobe::probes::websocket
