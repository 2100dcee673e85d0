// The non-blocking TLS client handshake and the established session's bounded reads and writes.
#include <openssl/err.h>
#include <poll.h>

#include <cerrno>
#include <string>

#include "probes/tls/tls_probe.hpp"

namespace gwprobe::probes::tls {

namespace {

/// Fatal alerts the peer sent, recorded by the info callback (OpenSSL's error queue only says
/// "alert received"; this keeps the alert's name).
struct AlertLog {
  std::string received;
};

extern "C" void record_alert(const SSL* ssl, int where, int value) {
  if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) return;
  if ((value >> 8) != SSL3_AL_FATAL) return;
  auto* log = static_cast<AlertLog*>(SSL_get_app_data(ssl));
  if (log == nullptr) return;
  // No exception may cross back into OpenSSL.
  try {
    log->received = SSL_alert_desc_string_long(value);
  } catch (...) {
    log->received.clear();
  }
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

/// Captures OpenSSL's view of a failed call before anything else touches the error queue.
OpenSslFailure capture_failure(SSL* ssl, int ssl_error) {
  OpenSslFailure f;
  f.ssl_error = ssl_error;
  f.error_code = ERR_peek_error();
  if (f.error_code != 0) {
    const char* reason = ERR_reason_error_string(f.error_code);
    if (reason != nullptr) {
      f.error_text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(f.error_code, buf, sizeof buf);
      f.error_text = buf;
    }
  }
  const auto stats = stream_bio_stats(SSL_get_rbio(ssl));
  f.sys_errno = stats.last_errno;
  f.peer_closed = stats.eof;
  f.bytes_received = stats.bytes_read;
  f.state = SSL_state_string_long(ssl);
  ERR_clear_error();
  return f;
}

/// Waits for what OpenSSL asked for. Returns true to try the call again; otherwise fills `f`.
bool wait_for_ssl(SSL* ssl, ByteStream& stream, int ssl_error, const core::Deadline& deadline,
                  const core::CancelToken& cancel, OpenSslFailure& f) {
  const short events = ssl_error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
  switch (wait_for_io(stream.poll_fd(), events, deadline, cancel)) {
    case WaitOutcome::ready:
      return true;
    case WaitOutcome::timed_out:
      f = capture_failure(ssl, ssl_error);
      f.timed_out = true;
      return false;
    case WaitOutcome::cancelled:
      f = capture_failure(ssl, ssl_error);
      f.cancelled = true;
      return false;
    case WaitOutcome::failed: {
      const int poll_errno = errno;  // capture_failure may overwrite errno
      f = capture_failure(ssl, SSL_ERROR_SYSCALL);
      f.sys_errno = poll_errno;
      return false;
    }
  }
  return false;
}

core::Error session_error(const OpenSslFailure& f, std::string_view doing) {
  const TlsFailure mapped = from_openssl(f);
  std::string reason = mapped.reason;
  if (f.timed_out) reason = "no data before the deadline";
  return core::Error{mapped.kind, std::string(doing) + ": " + reason, f.error_text};
}

}  // namespace

TlsSession::TlsSession(std::unique_ptr<ByteStream> stream, SslPtr ssl) noexcept
    : stream_(std::move(stream)), ssl_(std::move(ssl)) {}

TlsSession& TlsSession::operator=(TlsSession&& other) noexcept {
  if (this != &other) {
    ssl_ = std::move(other.ssl_);  // the old SSL goes before the stream it reads from
    stream_ = std::move(other.stream_);
  }
  return *this;
}

std::string TlsSession::version() const {
  const char* v = SSL_get_version(ssl_.get());
  return v != nullptr ? v : "";
}

std::string TlsSession::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get());
  if (c == nullptr) return {};
  const char* standard = SSL_CIPHER_standard_name(c);
  return standard != nullptr ? standard : SSL_CIPHER_get_name(c);
}

std::string TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &len);
  return data != nullptr ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::vector<X509Ptr> TlsSession::peer_chain() const {
  // On the client side the stack holds the leaf too, in the order the server sent them.
  return share_all(SSL_get_peer_cert_chain(ssl_.get()));
}

core::Result<std::size_t> TlsSession::read_some(std::span<std::byte> into,
                                                const core::Deadline& deadline,
                                                const core::CancelToken& cancel) {
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_read_ex(ssl_.get(), into.data(), into.size(), &n) == 1) return n;
    const int err = SSL_get_error(ssl_.get(), 0);
    if (err == SSL_ERROR_ZERO_RETURN) return std::size_t{0};
    OpenSslFailure f;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (wait_for_ssl(ssl_.get(), *stream_, err, deadline, cancel, f)) continue;
    } else {
      f = capture_failure(ssl_.get(), err);
    }
    return core::fail(session_error(f, "TLS read"));
  }
}

core::Result<void> TlsSession::write_all(std::span<const std::byte> data,
                                         const core::Deadline& deadline,
                                         const core::CancelToken& cancel) {
  while (!data.empty()) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_write_ex(ssl_.get(), data.data(), data.size(), &n) == 1) {
      data = data.subspan(n);
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), 0);
    OpenSslFailure f;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      // A retried SSL_write must pass the same buffer: `data` is unchanged here.
      if (wait_for_ssl(ssl_.get(), *stream_, err, deadline, cancel, f)) continue;
    } else {
      f = capture_failure(ssl_.get(), err);
    }
    return core::fail(session_error(f, "TLS write"));
  }
  return {};
}

void TlsSession::shutdown() noexcept {
  if (!ssl_) return;
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

HandshakeResult tls_handshake(std::unique_ptr<ByteStream> stream, const HandshakeSettings& settings,
                              const core::Deadline& deadline,
                              const core::CancelToken& cancel) noexcept {
  HandshakeResult out;
  const auto started = core::SteadyClock::now();
  const auto finish = [&] { out.duration = core::SteadyClock::now() - started; };
  ERR_clear_error();

  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || !stream) {
    out.failure.error_text = "cannot create the TLS client context";
    finish();
    return out;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), settings.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), settings.max_version);
  if (settings.legacy) {
    // TLS 1.0/1.1 need SHA-1 signatures, which OpenSSL 3 allows only at security level 0.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (!settings.alpn.empty()) {
    const std::string wire = alpn_wire_format(settings.alpn);
    SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }

  SslPtr ssl(SSL_new(ctx.get()));
  BioPtr bio = make_stream_bio(*stream);
  if (!ssl || !bio) {
    out.failure.error_text = "cannot create the TLS connection";
    ERR_clear_error();
    finish();
    return out;
  }
  if (!settings.sni.empty()) SSL_set_tlsext_host_name(ssl.get(), settings.sni.c_str());
  // One BIO for both directions: SSL_set_bio then owns exactly one reference.
  SSL_set_bio(ssl.get(), bio.get(), bio.get());
  [[maybe_unused]] BIO* owned_by_ssl = bio.release();
  SSL_set_connect_state(ssl.get());
  AlertLog alerts;
  SSL_set_app_data(ssl.get(), &alerts);
  SSL_set_info_callback(ssl.get(), record_alert);

  for (;;) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl.get());
    if (rc == 1) break;
    const int err = SSL_get_error(ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (wait_for_ssl(ssl.get(), *stream, err, deadline, cancel, out.failure)) continue;
    } else {
      out.failure = capture_failure(ssl.get(), err);
    }
    out.failure.alert_received = alerts.received;
    SSL_set_info_callback(ssl.get(), nullptr);
    SSL_set_app_data(ssl.get(), nullptr);
    finish();
    return out;
  }
  // `alerts` dies with this frame: detach it before the session outlives it.
  SSL_set_info_callback(ssl.get(), nullptr);
  SSL_set_app_data(ssl.get(), nullptr);
  finish();
  out.session.emplace(std::move(stream), std::move(ssl));
  return out;
}

}  // namespace gwprobe::probes::tls
