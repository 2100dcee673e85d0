// from_curl: the one place where libcurl's failure codes become gwprobe diagnoses.
#pragma once

#include <string>

#include "core/diagnosis.hpp"
#include "core/result.hpp"

namespace gwprobe::probes::proxy {

/// What was known when a CONNECT attempt ended, captured as plain data so the mapping is a pure
/// function and every row of it is a table test.
struct CurlOutcome {
  int code = 0;           ///< the CURLcode of the transfer (CURLE_OK = 0)
  long connect_code = 0;  ///< CURLINFO_HTTP_CONNECTCODE: the proxy's last answer (0: none)
  long proxy_error = 0;   ///< CURLINFO_PROXY_ERROR (CURLproxycode, SOCKS failures)
  int os_errno = 0;       ///< CURLINFO_OS_ERRNO (errno of a failed connect)
  bool connected_to_proxy = false;  ///< TCP (and TLS for https://) to the proxy completed
  bool had_credentials = false;     ///< a user name (and password) was offered
  bool https_proxy = false;         ///< TLS to the proxy itself
  bool timed_out = false;           ///< the probe's deadline passed first
  bool cancelled = false;           ///< the cancel token fired
  std::string error_text;           ///< CURLOPT_ERRORBUFFER (never holds credentials)
};

/// The mapped failure: a diagnosis, the failure kind, and a one-line reason (without the proxy's
/// name, which callers add).
struct CurlFailure {
  core::Diagnosis diagnosis = core::Diagnosis::ok;
  core::FailureKind kind = core::FailureKind::network;
  std::string reason;
};

/// OK for an open tunnel (CURLE_OK with a 2xx answer, or a SOCKS tunnel). 407 (and 401, which
/// some proxies send instead) -> PROXY_AUTH_REQUIRED without credentials, PROXY_AUTH_FAILED with
/// them; any other non-2xx answer -> PROXY_CONNECT_DENIED (502/503/504 worded as "could not
/// reach"); no TCP/TLS to the proxy, a name that does not resolve, or an answer that is not HTTP
/// -> PROXY_UNREACHABLE; connected but no answer before the deadline -> TCP_FILTERED (the proxy
/// is still trying to reach a destination that does not answer); a closed connection instead
/// of an answer -> PROXY_CONNECT_DENIED; SOCKS refusals by CURLINFO_PROXY_ERROR; cancel ->
/// PROBE_CANCELLED; local failures -> PROBE_ERROR.
CurlFailure from_curl(const CurlOutcome& outcome);

}  // namespace gwprobe::probes::proxy
