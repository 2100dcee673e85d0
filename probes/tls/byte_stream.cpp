// SocketStream, the stream BIO that lets OpenSSL run over any ByteStream, and the poll() wait.
#include "probes/tls/byte_stream.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <limits>
#include <new>

namespace gwprobe::probes::tls {

namespace {

IoResult io_error(int err) noexcept {
  return IoResult{IoStatus::error, 0, err};
}

/// Per-BIO state: the stream and what went through it.
struct StreamBioState {
  ByteStream* stream = nullptr;
  StreamBioStats stats;
};

StreamBioState* state_of(BIO* bio) noexcept {
  return static_cast<StreamBioState*>(BIO_get_data(bio));
}

int stream_bio_write(BIO* bio, const char* data, std::size_t len, std::size_t* written) {
  BIO_clear_retry_flags(bio);
  auto* st = state_of(bio);
  if (st == nullptr || st->stream == nullptr) return 0;
  const auto r = st->stream->write_some(std::span(reinterpret_cast<const std::byte*>(data), len));
  switch (r.status) {
    case IoStatus::ok:
      st->stats.bytes_written += r.bytes;
      *written = r.bytes;
      return 1;
    case IoStatus::would_block:
      BIO_set_retry_write(bio);
      return 0;
    case IoStatus::closed:
      st->stats.eof = true;
      return 0;
    case IoStatus::error:
      st->stats.last_errno = r.sys_errno;
      // OpenSSL reports SSL_ERROR_SYSCALL and leaves the cause in errno.
      errno = r.sys_errno;
      return 0;
  }
  return 0;
}

int stream_bio_read(BIO* bio, char* data, std::size_t len, std::size_t* read) {
  BIO_clear_retry_flags(bio);
  auto* st = state_of(bio);
  if (st == nullptr || st->stream == nullptr) return 0;
  const auto r = st->stream->read_some(std::span(reinterpret_cast<std::byte*>(data), len));
  switch (r.status) {
    case IoStatus::ok:
      st->stats.bytes_read += r.bytes;
      *read = r.bytes;
      return 1;
    case IoStatus::would_block:
      BIO_set_retry_read(bio);
      return 0;
    case IoStatus::closed:
      st->stats.eof = true;
      return 0;
    case IoStatus::error:
      st->stats.last_errno = r.sys_errno;
      errno = r.sys_errno;
      return 0;
  }
  return 0;
}

long stream_bio_ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF: {
      const auto* st = state_of(bio);
      return st != nullptr && st->stats.eof ? 1 : 0;
    }
    case BIO_C_GET_FD:
      return -1;  // not a descriptor BIO: SSL_get_fd must not mistake this for fd 0
    default:
      return 0;
  }
}

int stream_bio_create(BIO* bio) {
  BIO_set_data(bio, nullptr);
  BIO_set_init(bio, 0);
  return 1;
}

int stream_bio_destroy(BIO* bio) {
  delete state_of(bio);
  BIO_set_data(bio, nullptr);
  BIO_set_init(bio, 0);
  return 1;
}

struct StreamBioMethod {
  int type = 0;
  BioMethodPtr method;
};

/// The method table, made once per process (BIO_METHODs are immutable once built).
const StreamBioMethod& stream_bio_method() {
  static const StreamBioMethod method = [] {
    StreamBioMethod out;
    out.type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    out.method.reset(BIO_meth_new(out.type, "gwprobe stream"));
    if (auto* m = out.method.get()) {
      BIO_meth_set_write_ex(m, stream_bio_write);
      BIO_meth_set_read_ex(m, stream_bio_read);
      BIO_meth_set_ctrl(m, stream_bio_ctrl);
      BIO_meth_set_create(m, stream_bio_create);
      BIO_meth_set_destroy(m, stream_bio_destroy);
    }
    return out;
  }();
  return method;
}

}  // namespace

SocketStream::SocketStream(core::UniqueFd fd) noexcept : fd_(std::move(fd)) {
  if (fd_) {
    const int flags = ::fcntl(fd_.get(), F_GETFL, 0);
    if (flags >= 0) ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
    // Every write is a whole TLS record or WebSocket frame the peer is waiting for. With Nagle
    // on, a second small write waited for the ACK of the first, which the peer delays by 40 ms:
    // an upgrade through the relay took 45 ms instead of 1 ms. Not a TCP socket (a socketpair
    // in tests): nothing to do.
    const int on = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
}

IoResult SocketStream::read_some(std::span<std::byte> into) noexcept {
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), into.data(), into.size(), 0);
    if (n > 0) return IoResult{IoStatus::ok, static_cast<std::size_t>(n), 0};
    if (n == 0) return IoResult{IoStatus::closed, 0, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult{IoStatus::would_block, 0, 0};
    return io_error(errno);
  }
}

IoResult SocketStream::write_some(std::span<const std::byte> from) noexcept {
  for (;;) {
    // MSG_NOSIGNAL: a peer that reset the connection must give EPIPE, not kill the process.
    const ssize_t n = ::send(fd_.get(), from.data(), from.size(), MSG_NOSIGNAL);
    if (n >= 0) return IoResult{IoStatus::ok, static_cast<std::size_t>(n), 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult{IoStatus::would_block, 0, 0};
    return io_error(errno);
  }
}

BioPtr make_stream_bio(ByteStream& stream) {
  const BIO_METHOD* method = stream_bio_method().method.get();
  if (method == nullptr) return nullptr;
  BioPtr bio(BIO_new(method));
  if (!bio) return nullptr;
  auto* st = new (std::nothrow) StreamBioState{&stream, {}};
  if (st == nullptr) return nullptr;
  BIO_set_data(bio.get(), st);
  BIO_set_init(bio.get(), 1);
  return bio;
}

StreamBioStats stream_bio_stats(BIO* bio) noexcept {
  if (bio == nullptr || BIO_method_type(bio) != stream_bio_method().type) return {};
  const auto* st = state_of(bio);
  return st != nullptr ? st->stats : StreamBioStats{};
}

WaitOutcome wait_for_io(int fd, short events, const core::Deadline& deadline,
                        const core::CancelToken& cancel) noexcept {
  for (;;) {
    if (cancel.cancelled()) return WaitOutcome::cancelled;
    if (deadline.expired()) return WaitOutcome::timed_out;
    pollfd fds[2] = {{fd, events, 0}, {cancel.fd(), POLLIN, 0}};
    const int rc = ::poll(fds, 2, deadline.remaining_ms());
    if (rc < 0) {
      if (errno == EINTR) continue;
      return WaitOutcome::failed;
    }
    if (fds[1].revents != 0) return WaitOutcome::cancelled;
    if (fds[0].revents != 0) return WaitOutcome::ready;
    // rc == 0: poll's millisecond rounding; the loop re-checks the deadline.
  }
}

}  // namespace gwprobe::probes::tls
