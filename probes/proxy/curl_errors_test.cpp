// from_curl as a table: every libcurl outcome the proxy probe can meet, and its diagnosis.
#include "probes/proxy/curl_errors.hpp"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gwprobe::probes::proxy {
namespace {

using core::Diagnosis;
using core::FailureKind;
using ::testing::HasSubstr;

struct Row {
  const char* name;
  CurlOutcome outcome;
  Diagnosis diagnosis;
  FailureKind kind;
  const char* reason;
};

CurlOutcome outcome(int code, long connect_code = 0, bool connected = true,
                    bool credentials = false) {
  CurlOutcome o;
  o.code = code;
  o.connect_code = connect_code;
  o.connected_to_proxy = connected;
  o.had_credentials = credentials;
  return o;
}

CurlOutcome with(CurlOutcome o, void (*change)(CurlOutcome&)) {
  change(o);
  return o;
}

class FromCurl : public ::testing::TestWithParam<Row> {};

TEST_P(FromCurl, MapsTheOutcome) {
  const auto& row = GetParam();
  const auto mapped = from_curl(row.outcome);
  EXPECT_EQ(core::to_code(mapped.diagnosis), core::to_code(row.diagnosis)) << row.name;
  if (mapped.diagnosis != Diagnosis::ok) {
    EXPECT_EQ(mapped.kind, row.kind) << row.name;
    EXPECT_THAT(mapped.reason, HasSubstr(row.reason)) << row.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, FromCurl,
    ::testing::Values(
        Row{"tunnel open", outcome(CURLE_OK, 200), Diagnosis::ok, FailureKind::network, ""},
        Row{"socks tunnel open", outcome(CURLE_OK, 0), Diagnosis::ok, FailureKind::network, ""},
        Row{"407 without credentials", outcome(CURLE_RECV_ERROR, 407),
            Diagnosis::proxy_auth_required, FailureKind::auth, "requires authentication (407)"},
        Row{"407 with credentials", outcome(CURLE_RECV_ERROR, 407, true, true),
            Diagnosis::proxy_auth_failed, FailureKind::auth, "rejected the credentials (407)"},
        Row{"401 with credentials (tinyproxy)", outcome(CURLE_RECV_ERROR, 401, true, true),
            Diagnosis::proxy_auth_failed, FailureKind::auth, "401 instead of 407"},
        Row{"401 without credentials", outcome(CURLE_RECV_ERROR, 401),
            Diagnosis::proxy_auth_required, FailureKind::auth, "401 instead of 407"},
        Row{"403", outcome(CURLE_RECV_ERROR, 403), Diagnosis::proxy_connect_denied,
            FailureKind::network, "refused CONNECT with 403"},
        Row{"405", outcome(CURLE_RECV_ERROR, 405), Diagnosis::proxy_connect_denied,
            FailureKind::network, "refused CONNECT with 405"},
        Row{"503", outcome(CURLE_RECV_ERROR, 503), Diagnosis::proxy_connect_denied,
            FailureKind::network, "could not open a tunnel: it answered 503"},
        Row{"302", outcome(CURLE_RECV_ERROR, 302), Diagnosis::proxy_connect_denied,
            FailureKind::network, "refused CONNECT with 302"},
        Row{"name does not resolve", outcome(CURLE_COULDNT_RESOLVE_PROXY, 0, false),
            Diagnosis::proxy_unreachable, FailureKind::network, "does not resolve"},
        Row{"refused",
            with(outcome(CURLE_COULDNT_CONNECT, 0, false),
                 [](CurlOutcome& o) { o.os_errno = ECONNREFUSED; }),
            Diagnosis::proxy_unreachable, FailureKind::network,
            "cannot connect to the proxy (Connection refused)"},
        Row{"connect timeout", outcome(CURLE_OPERATION_TIMEDOUT, 0, false),
            Diagnosis::proxy_unreachable, FailureKind::timeout, "no TCP connection to the proxy"},
        Row{"https proxy handshake timeout",
            with(outcome(CURLE_OPERATION_TIMEDOUT, 0, false),
                 [](CurlOutcome& o) { o.https_proxy = true; }),
            Diagnosis::proxy_unreachable, FailureKind::timeout, "(TCP and TLS)"},
        Row{"our deadline before curl's",
            with(outcome(CURLE_OPERATION_TIMEDOUT, 0, true),
                 [](CurlOutcome& o) { o.timed_out = true; }),
            Diagnosis::tcp_filtered, FailureKind::timeout, "did not answer CONNECT"},
        Row{"no answer to CONNECT", outcome(CURLE_OPERATION_TIMEDOUT, 0, true),
            Diagnosis::tcp_filtered, FailureKind::timeout, "filtered beyond the proxy"},
        Row{"closed instead of answering", outcome(CURLE_GOT_NOTHING, 0, true),
            Diagnosis::proxy_connect_denied, FailureKind::network,
            "closed the connection without answering CONNECT"},
        Row{"reset before the request", outcome(CURLE_RECV_ERROR, 0, false),
            Diagnosis::proxy_unreachable, FailureKind::network,
            "the connection to the proxy failed"},
        Row{"not HTTP", outcome(CURLE_WEIRD_SERVER_REPLY, 0, true), Diagnosis::proxy_unreachable,
            FailureKind::protocol, "not HTTP"},
        Row{"untrusted https proxy", outcome(CURLE_PEER_FAILED_VERIFICATION, 0, false),
            Diagnosis::proxy_unreachable, FailureKind::protocol, "TLS to the proxy failed"},
        Row{"bad proxy CA file", outcome(CURLE_SSL_CACERT_BADFILE, 0, false),
            Diagnosis::probe_error, FailureKind::io, "cannot load the proxy CA file"},
        Row{"socks: rules",
            with(outcome(CURLE_PROXY, 0, true),
                 [](CurlOutcome& o) { o.proxy_error = CURLPX_REPLY_NOT_ALLOWED; }),
            Diagnosis::proxy_connect_denied, FailureKind::network, "not allowed"},
        Row{"socks: destination",
            with(outcome(CURLE_PROXY, 0, true),
                 [](CurlOutcome& o) { o.proxy_error = CURLPX_REPLY_CONNECTION_REFUSED; }),
            Diagnosis::proxy_connect_denied, FailureKind::network, "could not reach"},
        Row{"socks: auth",
            with(outcome(CURLE_PROXY, 0, true, true),
                 [](CurlOutcome& o) { o.proxy_error = CURLPX_USER_REJECTED; }),
            Diagnosis::proxy_auth_failed, FailureKind::auth, "rejected the credentials"},
        Row{"socks: auth needed",
            with(outcome(CURLE_PROXY, 0, true),
                 [](CurlOutcome& o) { o.proxy_error = CURLPX_NO_AUTH; }),
            Diagnosis::proxy_auth_required, FailureKind::auth, "requires authentication"},
        Row{"socks: garbage",
            with(outcome(CURLE_PROXY, 0, true),
                 [](CurlOutcome& o) { o.proxy_error = CURLPX_BAD_VERSION; }),
            Diagnosis::proxy_unreachable, FailureKind::protocol, "not usable"},
        Row{"cancelled",
            with(outcome(CURLE_OPERATION_TIMEDOUT, 0, true),
                 [](CurlOutcome& o) { o.cancelled = true; }),
            Diagnosis::probe_cancelled, FailureKind::cancelled, "cancelled"},
        Row{"out of memory", outcome(CURLE_OUT_OF_MEMORY, 0, false), Diagnosis::probe_error,
            FailureKind::internal, "failed locally"},
        Row{"an unexpected code", outcome(CURLE_FILESIZE_EXCEEDED, 0, true), Diagnosis::probe_error,
            FailureKind::internal, "libcurl error 63"}),
    [](const ::testing::TestParamInfo<Row>& row_info) {
      std::string name;
      for (const char* c = row_info.param.name; *c != '\0'; ++c) {
        name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      }
      return name;
    });

}  // namespace
}  // namespace gwprobe::probes::proxy
