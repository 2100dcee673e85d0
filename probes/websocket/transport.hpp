// Transport: the bytes under a WebSocket, non-blocking: a ByteStream (socket or proxy tunnel),
// or a TLS session on one. The WebSocket client waits on poll_fd() in the direction each call
// asks for (TLS may need to write to read).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "probes/tls/byte_stream.hpp"
#include "probes/tls/tls_probe.hpp"

namespace gwprobe::probes::websocket {

class Transport {
 public:
  struct Io {
    enum class Status {
      ok,          ///< `bytes` moved (at least one)
      want_read,   ///< wait until poll_fd() is readable, then call again
      want_write,  ///< wait until poll_fd() is writable, then call again
      eof,         ///< the peer closed: FIN (or TLS close_notify, or a TLS stream cut short)
      error,       ///< the transport failed: `sys_errno` (ECONNRESET...) or `detail` (TLS)
    };
    Status status = Status::ok;
    std::size_t bytes = 0;
    int sys_errno = 0;
    std::string detail;
  };

  /// Plain bytes over `stream` (a socket, or a proxy tunnel).
  explicit Transport(std::unique_ptr<tls::ByteStream> stream) noexcept;
  /// TLS over the session's stream.
  explicit Transport(tls::TlsSession session) noexcept;
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport() = default;

  Io read_some(std::span<std::byte> into) noexcept;
  Io write_some(std::span<const std::byte> from) noexcept;
  int poll_fd() const noexcept { return fd_; }
  bool is_tls() const noexcept { return tls_.has_value(); }
  /// TLS close_notify (best effort, never blocks); nothing for plain streams.
  void shutdown() noexcept;

 private:
  std::unique_ptr<tls::ByteStream> plain_;
  std::optional<tls::TlsSession> tls_;
  int fd_ = -1;
};

}  // namespace gwprobe::probes::websocket
