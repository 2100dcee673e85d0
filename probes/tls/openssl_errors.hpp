// from_openssl: the one place where OpenSSL's failure codes become gwprobe diagnoses.
#pragma once

#include <cstdint>
#include <string>

#include "core/diagnosis.hpp"
#include "core/result.hpp"

namespace gwprobe::probes::tls {

/// What was known when a TLS operation stopped, captured as plain data so the mapping is a
/// pure function and every row of it is a table test.
struct OpenSslFailure {
  int ssl_error = 0;                 ///< SSL_get_error() (SSL_ERROR_*); 0 when not an SSL call
  unsigned long error_code = 0;      ///< first code of OpenSSL's error queue (ERR_peek_error)
  std::string error_text;            ///< its text, e.g. "wrong version number"
  int sys_errno = 0;                 ///< transport errno for SSL_ERROR_SYSCALL
  std::string alert_received;        ///< the peer's fatal alert, e.g. "handshake failure"
  bool timed_out = false;            ///< the probe's deadline passed first
  bool cancelled = false;            ///< the cancel token fired
  bool peer_closed = false;          ///< the transport reported end of stream
  std::uint64_t bytes_received = 0;  ///< from the peer so far (0: no ServerHello at all)
  std::string state;                 ///< SSL_state_string_long at the time
};

/// The mapped failure: a diagnosis, the failure kind, a one-line reason (without the host), and
/// whether a handshake limited to TLS 1.0/1.1 is worth trying to tell TLS_VERSION_TOO_OLD from
/// TLS_HANDSHAKE_FAILED (only when the server spoke TLS and turned the modern hello down).
struct TlsFailure {
  core::Diagnosis diagnosis = core::Diagnosis::tls_handshake_failed;
  core::FailureKind kind = core::FailureKind::protocol;
  std::string reason;
  bool retry_with_legacy_versions = false;
};

TlsFailure from_openssl(const OpenSslFailure& failure);

}  // namespace gwprobe::probes::tls
