// from_openssl: every row of the OpenSSL -> diagnosis table.
#include "probes/tls/openssl_errors.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

namespace gwprobe::probes::tls {
namespace {

using core::Diagnosis;
using core::FailureKind;
using ::testing::HasSubstr;

OpenSslFailure ssl_reason(int reason, const char* text = "") {
  OpenSslFailure f;
  f.ssl_error = SSL_ERROR_SSL;
  f.error_code = ERR_PACK(ERR_LIB_SSL, 0, reason);
  f.error_text = text;
  f.bytes_received = 100;
  return f;
}

OpenSslFailure syscall_failure(int err) {
  OpenSslFailure f;
  f.ssl_error = SSL_ERROR_SYSCALL;
  f.sys_errno = err;
  return f;
}

struct Row {
  const char* name;
  OpenSslFailure failure;
  Diagnosis diagnosis;
  FailureKind kind;
  bool retry;
  const char* reason_part;
};

TEST(FromOpenssl, MapsEachFailureToADiagnosisAReasonAndARetryDecision) {
  OpenSslFailure silent;
  silent.timed_out = true;
  silent.ssl_error = SSL_ERROR_WANT_READ;
  OpenSslFailure stalled = silent;
  stalled.bytes_received = 1200;
  stalled.state = "SSLv3/TLS read server certificate";
  OpenSslFailure cancelled = silent;
  cancelled.timed_out = false;
  cancelled.cancelled = true;
  OpenSslFailure alert = ssl_reason(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
  alert.alert_received = "handshake failure";
  OpenSslFailure zero_return;
  zero_return.ssl_error = SSL_ERROR_ZERO_RETURN;
  OpenSslFailure sys_in_queue;
  sys_in_queue.ssl_error = SSL_ERROR_SSL;
  sys_in_queue.error_code = ERR_SYSTEM_FLAG | ECONNRESET;

  const std::vector<Row> rows = {
      {"cancelled", cancelled, Diagnosis::probe_cancelled, FailureKind::cancelled, false,
       "cancelled"},
      {"silent peer", silent, Diagnosis::tls_handshake_failed, FailureKind::timeout, false,
       "no ServerHello before the deadline"},
      {"stalled after ServerHello", stalled, Diagnosis::tls_handshake_failed, FailureKind::timeout,
       false, "stalled after the ServerHello (in state 'SSLv3/TLS read server certificate')"},
      {"alert from info callback", alert, Diagnosis::tls_handshake_failed, FailureKind::protocol,
       true, "alert 'handshake failure'"},
      {"alert only in the error queue", ssl_reason(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true,
       "refused TLS 1.2 and later (alert 'protocol version')"},
      {"no_application_protocol alert", ssl_reason(SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true, "no application protocol"},
      {"server picked TLS 1.0", ssl_reason(SSL_R_UNSUPPORTED_PROTOCOL),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true, "older than 1.2"},
      {"version too low", ssl_reason(SSL_R_VERSION_TOO_LOW), Diagnosis::tls_handshake_failed,
       FailureKind::protocol, true, "older than 1.2"},
      {"plain HTTP answer", ssl_reason(SSL_R_WRONG_VERSION_NUMBER), Diagnosis::tls_handshake_failed,
       FailureKind::protocol, false, "does not speak TLS"},
      {"huge record", ssl_reason(SSL_R_PACKET_LENGTH_TOO_LONG), Diagnosis::tls_handshake_failed,
       FailureKind::protocol, false, "does not speak TLS"},
      {"unexpected eof", ssl_reason(SSL_R_UNEXPECTED_EOF_WHILE_READING),
       Diagnosis::tls_handshake_failed, FailureKind::network, true, "closed the connection"},
      {"no shared cipher", ssl_reason(SSL_R_NO_SHARED_CIPHER, "no shared cipher"),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true,
       "no cipher suite, group or signature algorithm in common (no shared cipher)"},
      {"legacy sigalg", ssl_reason(SSL_R_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true, "in common"},
      {"other ssl reason", ssl_reason(SSL_R_BAD_LENGTH, "bad length"),
       Diagnosis::tls_handshake_failed, FailureKind::protocol, true,
       "TLS handshake failed: bad length"},
      {"reset", syscall_failure(ECONNRESET), Diagnosis::tls_handshake_failed, FailureKind::network,
       true, "reset"},
      {"broken pipe", syscall_failure(EPIPE), Diagnosis::tls_handshake_failed, FailureKind::network,
       true, "reset"},
      {"eof without errno", syscall_failure(0), Diagnosis::tls_handshake_failed,
       FailureKind::network, true, "closed the connection"},
      {"other errno", syscall_failure(EHOSTUNREACH), Diagnosis::tls_handshake_failed,
       FailureKind::network, false, "No route to host"},
      {"system error queued by OpenSSL", sys_in_queue, Diagnosis::tls_handshake_failed,
       FailureKind::network, true, "reset"},
      {"close_notify during handshake", zero_return, Diagnosis::tls_handshake_failed,
       FailureKind::network, true, "closed the connection"},
  };
  for (const auto& r : rows) {
    const TlsFailure m = from_openssl(r.failure);
    EXPECT_EQ(m.diagnosis, r.diagnosis) << r.name;
    EXPECT_EQ(m.kind, r.kind) << r.name;
    EXPECT_EQ(m.retry_with_legacy_versions, r.retry) << r.name;
    EXPECT_THAT(m.reason, HasSubstr(r.reason_part)) << r.name;
  }
}

TEST(FromOpenssl, ATimeoutIsATimeoutWhateverElseWasRecorded) {
  OpenSslFailure f = ssl_reason(SSL_R_WRONG_VERSION_NUMBER);
  f.timed_out = true;
  f.bytes_received = 0;
  EXPECT_EQ(from_openssl(f).kind, FailureKind::timeout);
}

}  // namespace
}  // namespace gwprobe::probes::tls
