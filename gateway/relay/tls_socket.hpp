// TlsSocket: server-side TLS driven straight on the socket's file descriptor (SSL_set_fd),
// waiting for readiness with async_wait. Private to gateway/relay's Beast translation units.
//
// Why not asio::ssl::stream: it keeps two 17 kB record buffers per connection and OpenSSL's BIO
// pair adds two more, about 68 kB per connection before any traffic. The relay's common case is
// thousands of idle listener control channels; with SSL_MODE_RELEASE_BUFFERS an idle TlsSocket
// holds only OpenSSL's SSL object. Data also skips the BIO-pair copy on the hot splice path.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cerrno>
#include <memory>

namespace gwprobe::gateway::relay::detail {

/// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), and a
/// write to a connection the peer reset would raise SIGPIPE and end the whole relay.
inline BIO_METHOD* nosignal_socket_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "gwprobe nosignal socket");
    BIO_meth_set_write_ex(m, [](BIO* bio, const char* data, size_t size, size_t* written) -> int {
      BIO_clear_retry_flags(bio);
      const ssize_t n = ::send(BIO_get_fd(bio, nullptr), data, size, MSG_NOSIGNAL);
      if (n >= 0) {
        *written = static_cast<size_t>(n);
        return 1;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
      return 0;
    });
    BIO_meth_set_read_ex(m, [](BIO* bio, char* data, size_t size, size_t* read) -> int {
      BIO_clear_retry_flags(bio);
      const ssize_t n = ::recv(BIO_get_fd(bio, nullptr), data, size, 0);
      if (n > 0) {
        *read = static_cast<size_t>(n);
        return 1;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(bio);
      if (n == 0) errno = 0;  // orderly EOF, not a system error
      return 0;
    });
    BIO_meth_set_ctrl(m, [](BIO* bio, int cmd, long num, void* ptr) -> long {
      switch (cmd) {
        case BIO_C_SET_FD:
          BIO_set_data(bio,
                       reinterpret_cast<void*>(static_cast<intptr_t>(*static_cast<int*>(ptr))));
          BIO_set_init(bio, 1);
          (void)num;
          return 1;
        case BIO_C_GET_FD: {
          const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
          if (ptr != nullptr) *static_cast<int*>(ptr) = fd;
          return fd;
        }
        case BIO_CTRL_FLUSH:
          return 1;
        default:
          return 0;
      }
    });
    return m;
  }();
  return method;
}

class TlsSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;
  using error_code = boost::system::error_code;

  TlsSocket(tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
    error_code ec;
    socket_.non_blocking(true, ec);
    if (ssl_) {
      BIO* bio = BIO_new(nosignal_socket_bio_method());
      int fd = static_cast<int>(socket_.native_handle());
      BIO_ctrl(bio, BIO_C_SET_FD, 0, &fd);
      SSL_set_bio(ssl_.get(), bio, bio);  // the SSL owns the BIO; the socket owns the fd
      SSL_set_accept_state(ssl_.get());   // the relay is always the TLS server
    }
  }
  TlsSocket(TlsSocket&&) noexcept = default;
  TlsSocket& operator=(TlsSocket&&) noexcept = default;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  tcp::socket& next_layer() noexcept { return socket_; }

  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code)>(
        Op<Kind::handshake, boost::asio::mutable_buffer>{this, {}}, handler, socket_);
  }
  /// Sends close_notify (does not wait for the peer's).
  template <class Handler>
  auto async_shutdown(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code)>(
        Op<Kind::shutdown, boost::asio::mutable_buffer>{this, {}}, handler, socket_);
  }
  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(
        Op<Kind::read, boost::asio::mutable_buffer>{this, first(buffers)}, handler, socket_);
  }
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(
        Op<Kind::write, boost::asio::const_buffer>{this, first(buffers)}, handler, socket_);
  }

 private:
  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  enum class Kind { handshake, shutdown, read, write };

  template <class Buffers>
  static auto first(const Buffers& buffers) {
    using Buffer = std::decay_t<decltype(*boost::asio::buffer_sequence_begin(buffers))>;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b = *it;
      if (b.size() > 0) return b;
    }
    return Buffer{};
  }

  // One attempt of the OpenSSL call; the composed op below waits for readiness between tries.
  enum class Step { done, want_read, want_write, failed };
  struct Attempt {
    Step step = Step::failed;
    std::size_t bytes = 0;
    error_code ec;
  };

  Attempt attempt(Kind kind, void* data, std::size_t size) {
    Attempt a;
    if (!ssl_ || !socket_.is_open()) {
      // Never touch the fd number after close: the kernel may have reused it already.
      a.ec = boost::asio::error::bad_descriptor;
      return a;
    }
    ERR_clear_error();
    int r = 0;
    switch (kind) {
      case Kind::handshake:
        r = SSL_do_handshake(ssl_.get());
        break;
      case Kind::shutdown:
        r = SSL_shutdown(ssl_.get());
        if (r == 0) r = 1;  // close_notify sent; the peer's is not awaited
        break;
      case Kind::read: {
        // Drain as many records as fit: one completion per 64 kB instead of per 16 kB record.
        r = SSL_read_ex(ssl_.get(), data, size, &a.bytes);
        std::size_t more = 0;
        while (r == 1 && a.bytes < size &&
               SSL_read_ex(ssl_.get(), static_cast<char*>(data) + a.bytes, size - a.bytes, &more) ==
                   1) {
          a.bytes += more;
        }
        if (r == 1) ERR_clear_error();  // a WANT_READ after some data is not an error
        break;
      }
      case Kind::write:
        r = SSL_write_ex(ssl_.get(), data, size, &a.bytes);
        break;
    }
    if (r == 1) {
      a.step = Step::done;
      return a;
    }
    const int err = SSL_get_error(ssl_.get(), r);
    switch (err) {
      case SSL_ERROR_WANT_READ:
        a.step = Step::want_read;
        return a;
      case SSL_ERROR_WANT_WRITE:
        a.step = Step::want_write;
        return a;
      case SSL_ERROR_ZERO_RETURN:
        a.ec = boost::asio::error::eof;
        return a;
      case SSL_ERROR_SYSCALL:
        a.ec = errno != 0 ? error_code(errno, boost::asio::error::get_system_category())
                          : error_code(boost::asio::error::eof);
        return a;
      default: {
        const unsigned long code = ERR_get_error();
        a.ec = code != 0
                   ? error_code(static_cast<int>(code), boost::asio::error::get_ssl_category())
                   : error_code(boost::asio::error::eof);
        return a;
      }
    }
  }

  template <Kind kind, class Buffer>
  struct Op {
    TlsSocket* self_;
    Buffer buffer_;
    bool waited_ = false;
    Attempt result_{};
    bool posted_ = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (posted_) return finish(self, result_);
      if (ec) return finish(self, Attempt{Step::failed, 0, ec});
      if constexpr (kind == Kind::read || kind == Kind::write) {
        if (buffer_.size() == 0) return immediate(self, Attempt{Step::done, 0, {}});
      }
      const Attempt a = self_->attempt(
          kind, const_cast<void*>(static_cast<const void*>(buffer_.data())), buffer_.size());
      if (a.step == Step::want_read || a.step == Step::want_write) {
        waited_ = true;
        self_->socket_.async_wait(
            a.step == Step::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
            std::move(self));
        return;
      }
      if (waited_) return finish(self, a);
      immediate(self, a);
    }

    // Asio forbids completing inside the initiating call: go round the event loop once.
    template <class Self>
    void immediate(Self& self, Attempt a) {
      result_ = a;
      posted_ = true;
      boost::asio::post(self_->socket_.get_executor(), std::move(self));
    }

    template <class Self>
    void finish(Self& self, const Attempt& a) {
      if constexpr (kind == Kind::read || kind == Kind::write) {
        self.complete(a.ec, a.bytes);
      } else {
        self.complete(a.ec);
      }
    }
  };

  tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

// Beast's websocket close calls these (found by ADL): close_notify, then close the socket.
template <class Handler>
void async_teardown(boost::beast::role_type role, TlsSocket& stream, Handler&& handler) {
  stream.async_shutdown(
      [&stream, role, h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
        boost::beast::websocket::async_teardown(role, stream.next_layer(), std::move(h));
      });
}

inline void teardown(boost::beast::role_type role, TlsSocket& stream,
                     boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, stream.next_layer(), ec);
}

}  // namespace gwprobe::gateway::relay::detail
