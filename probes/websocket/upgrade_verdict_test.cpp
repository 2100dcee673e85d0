// judge_upgrade_answer and from_asio as tables.
#include "probes/websocket/upgrade_verdict.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include "probes/websocket/websocket_errors.hpp"

namespace gwprobe::probes::websocket {
namespace {

using core::Diagnosis;
using ::testing::HasSubstr;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Row {
  const char* name;
  int status;
  Headers headers;
  UpgradePath path;
  bool token;
  bool proxy_credentials;
  Diagnosis diagnosis;
  Answerer by;
  const char* reason;
};

class JudgeUpgrade : public ::testing::TestWithParam<Row> {};

TEST_P(JudgeUpgrade, MapsTheAnswer) {
  const auto& row = GetParam();
  UpgradeAnswer answer{row.status, "Reason", row.headers};
  const auto v = judge_upgrade_answer(answer, row.path, row.token, row.proxy_credentials);
  EXPECT_EQ(core::to_code(v.diagnosis), core::to_code(row.diagnosis)) << row.name;
  EXPECT_EQ(static_cast<int>(v.answered_by), static_cast<int>(row.by)) << row.name;
  EXPECT_THAT(v.reason, HasSubstr(row.reason)) << row.name;
}

using P = UpgradePath;
using A = Answerer;

INSTANTIATE_TEST_SUITE_P(
    Table, JudgeUpgrade,
    ::testing::Values(Row{"426 forward",
                          426,
                          {},
                          P::forward_proxy,
                          false,
                          false,
                          Diagnosis::ws_upgrade_stripped,
                          A::unknown,
                          "the forward proxy removed the Upgrade header"},
                      Row{"200 direct",
                          200,
                          {},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_stripped,
                          A::unknown,
                          "a middlebox on the path removed"},
                      Row{"400 tls",
                          400,
                          {},
                          P::tls_end_to_end,
                          false,
                          false,
                          Diagnosis::ws_upgrade_stripped,
                          A::server,
                          "terminates TLS, or the server itself"},
                      Row{"426 with Via",
                          426,
                          {{"Via", "1.1 squid"}},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_stripped,
                          A::proxy,
                          "instead of 101"},
                      Row{"401 no token",
                          401,
                          {},
                          P::tls_end_to_end,
                          false,
                          false,
                          Diagnosis::relay_auth_failed,
                          A::server,
                          "none is configured"},
                      Row{"401 token",
                          401,
                          {},
                          P::tls_end_to_end,
                          true,
                          false,
                          Diagnosis::relay_auth_failed,
                          A::server,
                          "rejected the SAS token (401 Reason)"},
                      Row{"403 tls",
                          403,
                          {{"Via", "1.1 frontend"}},
                          P::tls_end_to_end,
                          true,
                          false,
                          Diagnosis::relay_auth_failed,
                          A::server,
                          "refused the token for this path"},
                      Row{"403 tunnel",
                          403,
                          {},
                          P::plain_tunnel,
                          true,
                          false,
                          Diagnosis::relay_auth_failed,
                          A::server,
                          "refused the token"},
                      Row{"403 forward",
                          403,
                          {},
                          P::forward_proxy,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::proxy,
                          "the proxy refused the WebSocket upgrade (403 Reason)"},
                      Row{"403 squid marks",
                          403,
                          {{"X-Squid-Error", "ERR_ACCESS_DENIED 0"}},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::proxy,
                          "the proxy refused"},
                      Row{"403 server says squid",
                          403,
                          {{"Server", "squid/5.7"}},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::proxy,
                          "the proxy refused"},
                      Row{"403 unmarked",
                          403,
                          {},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::unknown,
                          "no proxy headers"},
                      Row{"405",
                          405,
                          {{"Via", "1.1 proxy"}},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::proxy,
                          "the proxy refused the upgrade (405 Reason)"},
                      Row{"302 portal",
                          302,
                          {{"Location", "http://portal/login"}},
                          P::plain_direct,
                          false,
                          false,
                          Diagnosis::ws_upgrade_denied,
                          A::unknown,
                          "redirecting to http://portal/login"},
                      Row{"407 none",
                          407,
                          {},
                          P::forward_proxy,
                          false,
                          false,
                          Diagnosis::proxy_auth_required,
                          A::proxy,
                          "requires authentication (407)"},
                      Row{"407 wrong",
                          407,
                          {},
                          P::forward_proxy,
                          false,
                          true,
                          Diagnosis::proxy_auth_failed,
                          A::proxy,
                          "rejected the credentials (407)"},
                      Row{"503 forward",
                          503,
                          {},
                          P::forward_proxy,
                          false,
                          false,
                          Diagnosis::proxy_connect_denied,
                          A::proxy,
                          "could not forward the upgrade"},
                      Row{"503 tls",
                          503,
                          {},
                          P::tls_end_to_end,
                          false,
                          false,
                          Diagnosis::probe_error,
                          A::server,
                          "the server answered the upgrade with 503"},
                      Row{"404",
                          404,
                          {},
                          P::tls_end_to_end,
                          false,
                          false,
                          Diagnosis::probe_error,
                          A::server,
                          "no WebSocket endpoint at this path (404)"}),
    [](const ::testing::TestParamInfo<Row>& row_info) {
      std::string name;
      for (const char* c = row_info.param.name; *c != '\0'; ++c) {
        name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      }
      return name;
    });

TEST(UpgradeAnswer, HeadersAreCaseInsensitiveAndRepeatsJoined) {
  UpgradeAnswer a{403, "Forbidden", {{"via", "1.1 a"}, {"VIA", "1.1 b"}, {"Server", "x"}}};
  EXPECT_EQ(a.header("Via"), "1.1 a, 1.1 b");
  EXPECT_EQ(a.header("server"), "x");
  EXPECT_EQ(a.header("Location"), "");
}

TEST(FromAsio, NamesHowTheConnectionEnded) {
  namespace net = boost::asio;
  namespace beast = boost::beast;
  const struct {
    boost::system::error_code ec;
    EndKind kind;
  } rows[] = {
      {net::error::eof, EndKind::fin},
      {beast::http::error::end_of_stream, EndKind::fin},
      {net::error::connection_reset, EndKind::rst},
      {net::error::broken_pipe, EndKind::rst},
      {net::error::connection_aborted, EndKind::rst},
      {beast::websocket::error::closed, EndKind::close_frame},
      {net::error::operation_aborted, EndKind::aborted},
      {net::error::timed_out, EndKind::blackhole},
      {make_error_code(TransportErrc::tls_failed), EndKind::failed},
      {net::error::host_unreachable, EndKind::failed},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(to_string(from_asio(row.ec).kind), to_string(row.kind)) << row.ec.message();
    EXPECT_FALSE(from_asio(row.ec).detail.empty());
  }
  EXPECT_EQ(make_error_code(TransportErrc::tls_failed).message(), "TLS failure");
}

}  // namespace
}  // namespace gwprobe::probes::websocket
