// Transport: non-blocking reads and writes over a ByteStream or OpenSSL on one.
#include "probes/websocket/transport.hpp"

#include <openssl/err.h>

#include <cerrno>

namespace gwprobe::probes::websocket {

namespace {

using Io = Transport::Io;
using Status = Transport::Io::Status;

Io io_of(Status status, std::size_t bytes = 0, int sys_errno = 0) {
  Io io;
  io.status = status;
  io.bytes = bytes;
  io.sys_errno = sys_errno;
  return io;
}

Io from_stream(const tls::IoResult& r, Status would_block) {
  switch (r.status) {
    case tls::IoStatus::ok:
      return io_of(Status::ok, r.bytes);
    case tls::IoStatus::would_block:
      return io_of(would_block);
    case tls::IoStatus::closed:
      return io_of(Status::eof);
    case tls::IoStatus::error:
      return io_of(Status::error, 0, r.sys_errno);
  }
  return io_of(Status::error);
}

/// After a failed SSL_read/SSL_write: what to wait for, or how it ended.
Io from_ssl(SSL* ssl, int ret) {
  const int err = SSL_get_error(ssl, ret);
  Io io;
  switch (err) {
    case SSL_ERROR_WANT_READ:
      io.status = Status::want_read;
      break;
    case SSL_ERROR_WANT_WRITE:
      io.status = Status::want_write;
      break;
    case SSL_ERROR_ZERO_RETURN:
      io.status = Status::eof;  // close_notify
      break;
    case SSL_ERROR_SYSCALL: {
      const auto stats = tls::stream_bio_stats(SSL_get_rbio(ssl));
      if (stats.last_errno != 0) {
        io.status = Status::error;
        io.sys_errno = stats.last_errno;
      } else {
        io.status = Status::eof;  // the transport closed without close_notify
      }
      break;
    }
    default: {
      const unsigned long code = ERR_peek_error();
      if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        io.status = Status::eof;  // FIN without close_notify (OpenSSL 3 reports it this way)
        break;
      }
      io.status = Status::error;
      const char* text = ERR_reason_error_string(code);
      io.detail = text != nullptr ? std::string("TLS: ") + text : "TLS failure";
      const auto stats = tls::stream_bio_stats(SSL_get_rbio(ssl));
      io.sys_errno = stats.last_errno;
      break;
    }
  }
  ERR_clear_error();
  return io;
}

}  // namespace

Transport::Transport(std::unique_ptr<tls::ByteStream> stream) noexcept
    : plain_(std::move(stream)), fd_(plain_ ? plain_->poll_fd() : -1) {}

Transport::Transport(tls::TlsSession session) noexcept
    : tls_(std::move(session)), fd_(tls_->stream().poll_fd()) {
  // The WebSocket layer writes what it can (write_some) and may retry from another buffer
  // address after WANT_WRITE.
  SSL_set_mode(tls_->ssl(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

Transport::Io Transport::read_some(std::span<std::byte> into) noexcept {
  if (tls_) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_read_ex(tls_->ssl(), into.data(), into.size(), &n) == 1) return io_of(Status::ok, n);
    return from_ssl(tls_->ssl(), 0);
  }
  if (!plain_) return io_of(Status::error, 0, EBADF);
  return from_stream(plain_->read_some(into), Status::want_read);
}

Transport::Io Transport::write_some(std::span<const std::byte> from) noexcept {
  if (tls_) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_write_ex(tls_->ssl(), from.data(), from.size(), &n) == 1) return io_of(Status::ok, n);
    return from_ssl(tls_->ssl(), 0);
  }
  if (!plain_) return io_of(Status::error, 0, EBADF);
  return from_stream(plain_->write_some(from), Status::want_write);
}

void Transport::shutdown() noexcept {
  if (tls_) tls_->shutdown();
}

}  // namespace gwprobe::probes::websocket
