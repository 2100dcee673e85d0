// from_curl: what libcurl's outcome of a CONNECT means for the user.
#include "probes/proxy/curl_errors.hpp"

#include <curl/curl.h>

#include <cstring>
#include <system_error>
#include <utility>

namespace gwprobe::probes::proxy {

namespace {

using core::Diagnosis;
using core::FailureKind;

CurlFailure failure(Diagnosis d, FailureKind k, std::string reason) {
  return CurlFailure{d, k, std::move(reason)};
}

std::string with_detail(std::string reason, const std::string& detail) {
  if (detail.empty()) return reason;
  return reason + " (" + detail + ")";
}

/// The proxy's answer to CONNECT, when it gave one that is not 2xx.
CurlFailure from_connect_code(const CurlOutcome& o) {
  const std::string status = std::to_string(o.connect_code);
  if (o.connect_code == 407 || o.connect_code == 401) {
    // 401 is what some proxies (tinyproxy) send where RFC 9110 says 407.
    const std::string code = o.connect_code == 407 ? "407" : "401 instead of 407";
    if (o.had_credentials) {
      return failure(Diagnosis::proxy_auth_failed, FailureKind::auth,
                     "the proxy rejected the credentials (" + code + ")");
    }
    return failure(Diagnosis::proxy_auth_required, FailureKind::auth,
                   "the proxy requires authentication (" + code + ") and none was given");
  }
  if (o.connect_code == 502 || o.connect_code == 503 || o.connect_code == 504) {
    return failure(Diagnosis::proxy_connect_denied, FailureKind::network,
                   "the proxy could not open a tunnel: it answered " + status +
                       " (it could not reach the destination, or refuses it)");
  }
  return failure(Diagnosis::proxy_connect_denied, FailureKind::network,
                 "the proxy refused CONNECT with " + status);
}

CurlFailure from_socks(const CurlOutcome& o) {
  switch (o.proxy_error) {
    case CURLPX_USER_REJECTED:
    case CURLPX_NO_AUTH:
    case CURLPX_RECV_AUTH:
    case CURLPX_SEND_AUTH:
      if (o.had_credentials) {
        return failure(Diagnosis::proxy_auth_failed, FailureKind::auth,
                       "the SOCKS proxy rejected the credentials");
      }
      return failure(Diagnosis::proxy_auth_required, FailureKind::auth,
                     "the SOCKS proxy requires authentication and none was given");
    case CURLPX_REPLY_NOT_ALLOWED:
    case CURLPX_REQUEST_FAILED:
      return failure(Diagnosis::proxy_connect_denied, FailureKind::network,
                     "the SOCKS proxy refused the connection (not allowed by its rules)");
    case CURLPX_REPLY_CONNECTION_REFUSED:
    case CURLPX_REPLY_HOST_UNREACHABLE:
    case CURLPX_REPLY_NETWORK_UNREACHABLE:
    case CURLPX_REPLY_TTL_EXPIRED:
    case CURLPX_REPLY_GENERAL_SERVER_FAILURE:
    case CURLPX_RESOLVE_HOST:
      return failure(Diagnosis::proxy_connect_denied, FailureKind::network,
                     with_detail("the SOCKS proxy could not reach the destination", o.error_text));
    default:
      return failure(Diagnosis::proxy_unreachable, FailureKind::protocol,
                     with_detail("the SOCKS proxy's answer was not usable", o.error_text));
  }
}

}  // namespace

CurlFailure from_curl(const CurlOutcome& o) {
  if (o.cancelled) return failure(Diagnosis::probe_cancelled, FailureKind::cancelled, "cancelled");
  if (o.connect_code >= 300 || (o.connect_code >= 100 && o.connect_code < 200)) {
    return from_connect_code(o);
  }
  const auto code = static_cast<CURLcode>(o.code);
  if (code == CURLE_OK) return failure(Diagnosis::ok, FailureKind::network, "");
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      break;  // below, with our own deadline
    case CURLE_COULDNT_RESOLVE_PROXY:
      return failure(Diagnosis::proxy_unreachable, FailureKind::network,
                     "the proxy's host name does not resolve");
    case CURLE_COULDNT_CONNECT: {
      std::string why = o.os_errno != 0
                            ? std::error_code(o.os_errno, std::generic_category()).message()
                            : o.error_text;
      return failure(Diagnosis::proxy_unreachable, FailureKind::network,
                     with_detail("cannot connect to the proxy", why));
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return failure(Diagnosis::proxy_unreachable, FailureKind::protocol,
                     with_detail("TLS to the proxy failed", o.error_text));
    case CURLE_SSL_CACERT_BADFILE:
      return failure(Diagnosis::probe_error, FailureKind::io,
                     with_detail("cannot load the proxy CA file", o.error_text));
    case CURLE_WEIRD_SERVER_REPLY:
      return failure(Diagnosis::proxy_unreachable, FailureKind::protocol,
                     "the proxy's answer to CONNECT is not HTTP (is it an HTTP proxy?)");
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (!o.connected_to_proxy) {
        return failure(Diagnosis::proxy_unreachable, FailureKind::network,
                       with_detail("the connection to the proxy failed", o.error_text));
      }
      return failure(Diagnosis::proxy_connect_denied, FailureKind::network,
                     "the proxy closed the connection without answering CONNECT");
    case CURLE_PROXY:
      return from_socks(o);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
      return failure(Diagnosis::probe_error, FailureKind::unsupported,
                     with_detail("this libcurl cannot use the proxy", o.error_text));
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
      return failure(
          o.had_credentials ? Diagnosis::proxy_auth_failed : Diagnosis::proxy_auth_required,
          FailureKind::auth, with_detail("proxy authentication failed", o.error_text));
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return failure(Diagnosis::probe_error, FailureKind::internal,
                     with_detail("libcurl failed locally", o.error_text));
    default:
      if (!o.timed_out) {
        return failure(Diagnosis::probe_error, FailureKind::internal,
                       with_detail("libcurl error " + std::to_string(o.code), o.error_text));
      }
      break;
  }
  // A timeout, whatever curl called it: where it happened says what it means.
  if (!o.connected_to_proxy) {
    return failure(Diagnosis::proxy_unreachable, FailureKind::timeout,
                   o.https_proxy ? "no connection (TCP and TLS) to the proxy before the deadline"
                                 : "no TCP connection to the proxy before the deadline");
  }
  return failure(Diagnosis::tcp_filtered, FailureKind::timeout,
                 "the proxy accepted the connection but did not answer CONNECT before the "
                 "deadline: it is still trying to reach the destination, which does not answer "
                 "(filtered beyond the proxy)");
}

}  // namespace gwprobe::probes::proxy
