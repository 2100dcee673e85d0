// ByteStream: what the TLS handshake runs over. A connected socket for direct probes; for a
// proxy tunnel that is not a plain socket (TLS inside an HTTPS proxy's TLS, where libcurl owns
// the outer session) the proxy probe supplies its own ByteStream over curl_easy_send/recv.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/unique_fd.hpp"
#include "probes/tls/openssl_handles.hpp"

namespace gwprobe::probes::tls {

enum class IoStatus {
  ok,           ///< `bytes` were transferred (at least one)
  would_block,  ///< nothing now; wait for poll_fd() and try again
  closed,       ///< orderly end of stream (reads only)
  error,        ///< the transport failed; `sys_errno` says how (ECONNRESET, ...)
};

struct IoResult {
  IoStatus status = IoStatus::ok;
  std::size_t bytes = 0;
  int sys_errno = 0;
};

/// A non-blocking, ordered, reliable byte stream. Implementations never block: when no progress
/// is possible they return would_block, and poll_fd() becomes readable (after a read) or
/// writable (after a write) once trying again may make progress.
class ByteStream {
 public:
  ByteStream() = default;
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  virtual ~ByteStream() = default;

  virtual IoResult read_some(std::span<std::byte> into) noexcept = 0;
  virtual IoResult write_some(std::span<const std::byte> from) noexcept = 0;
  virtual int poll_fd() const noexcept = 0;
};

/// A connected TCP socket (owned). The constructor switches it to non-blocking mode and turns
/// Nagle's algorithm off (TCP_NODELAY).
class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(core::UniqueFd fd) noexcept;
  IoResult read_some(std::span<std::byte> into) noexcept override;
  IoResult write_some(std::span<const std::byte> from) noexcept override;
  int poll_fd() const noexcept override { return fd_.get(); }

 private:
  core::UniqueFd fd_;
};

/// A BIO that reads and writes through `stream`, which must outlive it. OpenSSL sees the usual
/// retry semantics (BIO_should_retry), so SSL_get_error reports WANT_READ / WANT_WRITE.
BioPtr make_stream_bio(ByteStream& stream);

/// What a stream BIO saw: bytes moved and the last transport failure.
struct StreamBioStats {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  int last_errno = 0;  ///< errno of the last IoStatus::error, 0 if none
  bool eof = false;    ///< the peer closed the stream
};

/// Stats of a BIO made by make_stream_bio (zeros for any other BIO).
StreamBioStats stream_bio_stats(BIO* bio) noexcept;

enum class WaitOutcome { ready, timed_out, cancelled, failed };

/// Waits until `fd` has any of `events` (or an error/hang-up the next I/O call will report),
/// the deadline passes, or `cancel` fires. Never sleeps past the deadline.
WaitOutcome wait_for_io(int fd, short events, const core::Deadline& deadline,
                        const core::CancelToken& cancel) noexcept;

}  // namespace gwprobe::probes::tls
