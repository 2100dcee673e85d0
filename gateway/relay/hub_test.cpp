// RelayHub: routing policies, load threshold, longest-prefix clusters, pending limits, waiters
// failed when their listener leaves, and the /metrics and /status renderings.
#include "gateway/relay/hub.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gwprobe::gateway::relay {
namespace {

struct FakeLink : ListenerLink {
  bool offer(std::string, std::shared_ptr<const std::string>) override { return true; }
};

struct FakeWaiter : Waiter {
  int status = 0;
  void fail(int http_status, std::string) override { status = http_status; }
};

MemberInfo info(std::string id, int priority = 0) {
  MemberInfo m;
  m.listener_id = std::move(id);
  m.priority = priority;
  m.base_url = "wss://localhost:9443";
  return m;
}

TEST(RelayHub, RoundRobinRotatesOverMembersInArrivalOrder) {
  RelayHub hub(Routing::round_robin, 0.9, 8);
  auto a = std::make_shared<FakeLink>();
  auto b = std::make_shared<FakeLink>();
  const auto ida = hub.add_member("db", a, info("a"));
  const auto idb = hub.add_member("db", b, info("b"));
  std::vector<std::uint64_t> picked;
  for (int i = 0; i < 4; ++i) picked.push_back(hub.pick("db").member);
  EXPECT_EQ(picked, (std::vector<std::uint64_t>{ida, idb, ida, idb}));
}

TEST(RelayHub, FailoverPicksTheLowestPriorityThenTheOldestMember) {
  RelayHub hub(Routing::failover, 0.9, 8);
  auto a = std::make_shared<FakeLink>();
  auto b = std::make_shared<FakeLink>();
  auto c = std::make_shared<FakeLink>();
  hub.add_member("db", a, info("a", 5));
  const auto idb = hub.add_member("db", b, info("b", 1));
  const auto idc = hub.add_member("db", c, info("c", 1));
  EXPECT_EQ(hub.pick("db").member, idb);
  EXPECT_EQ(hub.pick("db").member, idb);
  hub.remove_member(idb, "test");
  EXPECT_EQ(hub.pick("db").member, idc);
}

TEST(RelayHub, SkipsMembersOverTheLoadThresholdAndSaysWhenAllAreBusy) {
  RelayHub hub(Routing::round_robin, 0.8, 8);
  auto a = std::make_shared<FakeLink>();
  auto b = std::make_shared<FakeLink>();
  const auto ida = hub.add_member("db", a, info("a"));
  const auto idb = hub.add_member("db", b, info("b"));
  hub.update_load(ida, 0.95, 0.1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hub.pick("db").member, idb);
  hub.update_load(idb, 0.1, 0.81);
  EXPECT_EQ(hub.pick("db").fault, PickFault::all_busy);
  hub.update_load(ida, 0.5, 0.5);
  EXPECT_EQ(hub.pick("db").member, ida);
}

TEST(RelayHub, RoutesToTheLongestRegisteredPathOnSegmentBoundaries) {
  RelayHub hub(Routing::round_robin, 0.9, 8);
  auto a = std::make_shared<FakeLink>();
  auto b = std::make_shared<FakeLink>();
  const auto ida = hub.add_member("db", a, info("a"));
  const auto idb = hub.add_member("db/reports", b, info("b"));
  EXPECT_EQ(hub.pick("db/query").member, ida);
  EXPECT_EQ(hub.pick("DB/Reports/x").member, idb);
  EXPECT_EQ(hub.pick("dbx").fault, PickFault::no_listener);
  EXPECT_EQ(hub.pick("other").fault, PickFault::no_listener);
}

TEST(RelayHub, ADeadLinkIsNeverPicked) {
  RelayHub hub(Routing::round_robin, 0.9, 8);
  auto a = std::make_shared<FakeLink>();
  hub.add_member("db", a, info("a"));
  a.reset();
  EXPECT_EQ(hub.pick("db").fault, PickFault::all_busy);
}

TEST(RelayHub, LimitsPendingAcceptsPerClusterAndFreesSlotsWhenTaken) {
  RelayHub hub(Routing::round_robin, 0.9, 2);
  auto link = std::make_shared<FakeLink>();
  const auto id = hub.add_member("db", link, info("a"));
  auto w1 = std::make_shared<FakeWaiter>();
  auto w2 = std::make_shared<FakeWaiter>();
  auto w3 = std::make_shared<FakeWaiter>();
  EXPECT_TRUE(hub.add_pending("c1", "db", id, w1, true));
  EXPECT_TRUE(hub.add_pending("c2", "db", id, w2, true));
  EXPECT_FALSE(hub.add_pending("c3", "db", id, w3, true));
  EXPECT_TRUE(hub.add_pending("r1", "db", id, w3, false));  // requests are not accepts
  EXPECT_EQ(hub.take_pending("c1"), w1);
  EXPECT_EQ(hub.take_pending("c1"), nullptr);
  EXPECT_TRUE(hub.add_pending("c3", "db", id, w3, true));
}

TEST(RelayHub, RemovingAMemberFailsItsWaitersWith502AndListsItOffline) {
  RelayHub hub(Routing::round_robin, 0.9, 8);
  auto link = std::make_shared<FakeLink>();
  const auto id = hub.add_member("db", link, info("gw-1"));
  auto sender = std::make_shared<FakeWaiter>();
  auto request = std::make_shared<FakeWaiter>();
  hub.add_pending("cap", "db", id, sender, true);
  hub.add_request("req", id, request);
  hub.remove_member(id, "ping_timeout");
  EXPECT_EQ(sender->status, 502);
  EXPECT_EQ(request->status, 502);
  EXPECT_EQ(hub.find_request("req"), nullptr);
  const auto status = nlohmann::json::parse(hub.status_json());
  ASSERT_EQ(status["clusters"].size(), 1u);
  EXPECT_TRUE(status["clusters"][0]["online"].empty());
  EXPECT_EQ(status["clusters"][0]["offline"][0]["id"], "gw-1");
  EXPECT_EQ(status["clusters"][0]["offline"][0]["reason"], "ping_timeout");
}

TEST(RelayHub, MetricsAreValidPrometheusTextWithLabelsAndGauges) {
  RelayHub hub(Routing::round_robin, 0.9, 8);
  auto link = std::make_shared<FakeLink>();
  hub.add_member("db", link, info("a"));
  hub.count("http_requests_total", "status", "200");
  hub.count("http_requests_total", "status", "200");
  hub.count("auth_failures_total", "fault", "bad\"sig");
  hub.connection_opened(ConnectionKind::control);
  const auto text = hub.metrics_text();
  EXPECT_NE(text.find("gwprobe_relay_http_requests_total{status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("gwprobe_relay_auth_failures_total{fault=\"bad\\\"sig\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE gwprobe_relay_sender_connects_total "
                      "counter\ngwprobe_relay_sender_connects_total 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("gwprobe_relay_listeners_online{cluster=\"db\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("gwprobe_relay_connections{kind=\"control\"} 1\n"), std::string::npos);
  EXPECT_EQ(hub.counter("http_requests_total", "status", "200"), 2u);
}

TEST(RelayHub, TheStatusPageEscapesWhatListenersChoose) {
  RelayHub hub(Routing::failover, 0.9, 8);
  auto link = std::make_shared<FakeLink>();
  hub.add_member("db", link, info("<script>x</script>"));
  const auto html = hub.status_html();
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("failover"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::gateway::relay
