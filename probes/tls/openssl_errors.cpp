// The OpenSSL -> diagnosis table. Keep every decision here; callers only capture facts.
#include "probes/tls/openssl_errors.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

namespace gwprobe::probes::tls {

namespace {

using core::Diagnosis;
using core::FailureKind;

TlsFailure failed(std::string reason, bool retry, FailureKind kind = FailureKind::protocol) {
  return TlsFailure{Diagnosis::tls_handshake_failed, kind, std::move(reason), retry};
}

/// The text of an alert carried in an SSL_R_* reason (OpenSSL encodes "alert received" as
/// SSL_AD_REASON_OFFSET + the alert number).
std::string alert_text_from_reason(int reason) {
  const int alert = reason - SSL_AD_REASON_OFFSET;
  const char* text = SSL_alert_desc_string_long(alert);
  return text != nullptr ? text : "alert " + std::to_string(alert);
}

TlsFailure from_alert(const std::string& alert) {
  if (alert == "protocol version") {
    return failed("the server refused TLS 1.2 and later (alert 'protocol version')", true);
  }
  return failed("the server refused the handshake with the alert '" + alert + "'", true);
}

}  // namespace

TlsFailure from_openssl(const OpenSslFailure& f) {
  if (f.cancelled) {
    return TlsFailure{Diagnosis::probe_cancelled, FailureKind::cancelled,
                      "cancelled during the TLS handshake", false};
  }
  if (f.timed_out) {
    if (f.bytes_received == 0) {
      return failed(
          "no ServerHello before the deadline: the peer accepted TCP but never answered the "
          "ClientHello (a filtering middlebox, or not a TLS service)",
          false, FailureKind::timeout);
    }
    return failed("the handshake stalled after the ServerHello (in state '" + f.state +
                      "') until the deadline",
                  false, FailureKind::timeout);
  }
  if (!f.alert_received.empty()) return from_alert(f.alert_received);

  const int lib = ERR_GET_LIB(f.error_code);
  const int reason = ERR_GET_REASON(f.error_code);
  if (f.ssl_error == SSL_ERROR_SSL && lib == ERR_LIB_SSL) {
    if (reason >= SSL_AD_REASON_OFFSET) return from_alert(alert_text_from_reason(reason));
    switch (reason) {
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_NO_PROTOCOLS_AVAILABLE:
      case SSL_R_VERSION_TOO_LOW:
      case SSL_R_WRONG_SSL_VERSION:
      case SSL_R_UNSUPPORTED_SSL_VERSION:
        return failed("the server answered with a TLS version older than 1.2", true);
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_HTTP_REQUEST:
      case SSL_R_HTTPS_PROXY_REQUEST:
      case SSL_R_PACKET_LENGTH_TOO_LONG:
      case SSL_R_UNKNOWN_PROTOCOL:
      case SSL_R_RECORD_LENGTH_MISMATCH:
        return failed(
            "the peer does not speak TLS: it answered the ClientHello with something else (plain "
            "HTTP, or a proxy's error page?)",
            false);
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return failed("the server closed the connection during the handshake", true,
                      FailureKind::network);
      case SSL_R_NO_SHARED_CIPHER:
      case SSL_R_NO_CIPHERS_AVAILABLE:
      case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      case SSL_R_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED:
      case SSL_R_DH_KEY_TOO_SMALL:
      case SSL_R_NO_SHARED_GROUPS:
      case SSL_R_WRONG_CURVE:
        return failed(
            "no cipher suite, group or signature algorithm in common (" + f.error_text + ")", true);
      default:
        break;
    }
    return failed(
        "TLS handshake failed: " + (f.error_text.empty() ? "unknown error" : f.error_text), true);
  }
  if (f.ssl_error == SSL_ERROR_SSL && lib == ERR_LIB_SYS) {
    // A system error OpenSSL queued itself (its own socket BIO does): same as SSL_ERROR_SYSCALL.
    OpenSslFailure as_syscall = f;
    as_syscall.ssl_error = SSL_ERROR_SYSCALL;
    as_syscall.sys_errno = reason;
    as_syscall.error_code = 0;
    return from_openssl(as_syscall);
  }
  if (f.ssl_error == SSL_ERROR_SSL) {
    return failed(
        "TLS handshake failed: " + (f.error_text.empty() ? "unknown error" : f.error_text), true);
  }
  if (f.ssl_error == SSL_ERROR_ZERO_RETURN ||
      (f.ssl_error == SSL_ERROR_SYSCALL && f.sys_errno == 0)) {
    return failed("the server closed the connection during the handshake", true,
                  FailureKind::network);
  }
  if (f.ssl_error == SSL_ERROR_SYSCALL) {
    if (f.sys_errno == ECONNRESET || f.sys_errno == EPIPE) {
      return failed("the connection was reset during the handshake", true, FailureKind::network);
    }
    return failed(
        std::string("transport error during the handshake: ") + std::strerror(f.sys_errno), false,
        FailureKind::network);
  }
  if (f.peer_closed) {
    return failed("the server closed the connection during the handshake", true,
                  FailureKind::network);
  }
  return failed("TLS handshake failed: " + (f.error_text.empty() ? "unknown error" : f.error_text),
                false, FailureKind::internal);
}

}  // namespace gwprobe::probes::tls
