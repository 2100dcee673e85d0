// Request targets and header filtering.
#include "gateway/protocol/hc_url.hpp"

#include <gtest/gtest.h>

namespace gwprobe::gateway::protocol {
namespace {

TEST(HcTarget, ParsesAListenUrlWithEncodedTokenAndId) {
  auto t = parse_hc_target("/$hc/db1?sb-hc-action=listen&sb-hc-id=abc&sb-hc-token=Shared%20x%2By");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->hc);
  EXPECT_EQ(t->path, "db1");
  EXPECT_EQ(t->action, HcAction::listen);
  EXPECT_EQ(t->id, "abc");
  EXPECT_EQ(t->token, "Shared x+y");
  EXPECT_EQ(t->request_target, "/$hc/db1");
}

TEST(HcTarget, KeepsAppArgumentsAndASuffixButStripsSbHcParameters) {
  auto t = parse_hc_target("/$hc/db1/sub/?app=1&sb-hc-action=connect&SB-HC-ID=x&b=2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "db1/sub");
  EXPECT_EQ(t->action, HcAction::connect);
  EXPECT_EQ(t->request_target, "/$hc/db1/sub/?app=1&b=2");
}

TEST(HcTarget, ParsesAListenerRejectAndThePriorityExtension) {
  auto t = parse_hc_target(
      "/$hc/"
      "p?sb-hc-action=accept&sb-hc-id=c1&sb-hc-statusCode=403&sb-hc-statusDescription=go%20away"
      "&gwprobe-priority=2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->action, HcAction::accept);
  EXPECT_EQ(t->status_code, "403");
  EXPECT_EQ(t->status_description, "go away");
  EXPECT_EQ(t->priority, "2");
}

TEST(HcTarget, AnHttpModeTargetHasNoActionAndLosesItsToken) {
  auto t = parse_hc_target("/db1/query?x=1&sb-hc-token=abc");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->hc);
  EXPECT_EQ(t->path, "db1/query");
  EXPECT_EQ(t->action, HcAction::none);
  EXPECT_EQ(t->request_target, "/db1/query?x=1");
}

TEST(HcTarget, RejectsBadTargets) {
  for (const char* bad :
       {"", "db1", "/$hc/", "/$hc/p", "/$hc/p?sb-hc-action=dance", "/$hc/p%zz?sb-hc-action=listen",
        "/$hc/p?sb-hc-action=listen&sb-hc-token=%G1"}) {
    EXPECT_FALSE(parse_hc_target(bad)) << bad;
  }
}

TEST(HeaderFiltering, DropsHopByHopAndRelayAuthButKeepsVia) {
  const Headers in = {{"Host", "r"},
                      {"Connection", "keep-alive"},
                      {"Content-Length", "3"},
                      {"Transfer-Encoding", "chunked"},
                      {"ServiceBusAuthorization", "SharedAccessSignature x"},
                      {"Authorization", "SharedAccessSignature y"},
                      {"Via", "1.1 proxy"},
                      {"Content-Type", "text/plain"},
                      {"TE", "trailers"},
                      {"Upgrade", "h2c"}};
  const Headers out = filter_request_headers(in, true);
  EXPECT_EQ(out, (Headers{{"Via", "1.1 proxy"}, {"Content-Type", "text/plain"}}));
  const Headers keep_auth = filter_request_headers(in, false);
  EXPECT_NE(find_header(keep_auth, "authorization"), nullptr);
}

TEST(HeaderFiltering, ConnectHeadersKeepTheWebSocketKeyButNotTheToken) {
  const Headers in = {{"Sec-WebSocket-Key", "k"},
                      {"Upgrade", "websocket"},
                      {"ServiceBusAuthorization", "SharedAccessSignature x"}};
  const Headers out = filter_connect_headers(in, false);
  EXPECT_EQ(out, (Headers{{"Sec-WebSocket-Key", "k"}, {"Upgrade", "websocket"}}));
}

TEST(HcUrl, BuildsListenAndConnectUrlsThatParseBack) {
  const auto url = hc_url("wss://localhost:9443/", "/gwprobe demo/sub", HcAction::listen, "gw 1");
  EXPECT_EQ(url, "wss://localhost:9443/$hc/gwprobe%20demo/sub?sb-hc-action=listen&sb-hc-id=gw%201");
  auto parsed = parse_hc_target(url.substr(std::string("wss://localhost:9443").size()));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->path, "gwprobe demo/sub");
  EXPECT_EQ(parsed->action, HcAction::listen);
  EXPECT_EQ(parsed->id, "gw 1");
  EXPECT_EQ(hc_url("wss://r", "p", HcAction::connect), "wss://r/$hc/p?sb-hc-action=connect");
}

TEST(HeaderFiltering, AppendQueryEncodesTheValue) {
  EXPECT_EQ(append_query("wss://r/$hc/p?sb-hc-action=accept", "sb-hc-statusDescription", "no way"),
            "wss://r/$hc/p?sb-hc-action=accept&sb-hc-statusDescription=no%20way");
  EXPECT_EQ(append_query("/p", "a", "b"), "/p?a=b");
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
