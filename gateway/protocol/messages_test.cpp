// Control messages: the documented examples, hyco-https's numeric statusCode, unknown fields,
// the gwprobe load extension, and round trips.
#include "gateway/protocol/messages.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gwprobe::gateway::protocol {
namespace {

TEST(ControlMessages, ParsesTheDocumentedAcceptWithUnknownFieldsTolerated) {
  auto msg = parse_control_message(R"({"accept":{
      "address":"wss://relay.example:443/$hc/db1?sb-hc-action=accept&sb-hc-id=4cb5",
      "id":"4cb5","connectHeaders":{"Host":"relay.example","Sec-WebSocket-Key":"abc"},
      "remoteEndpoint":{"address":"203.0.113.7","port":53462},"futureField":[1,2]}})");
  ASSERT_TRUE(msg) << msg.error().message;
  const auto& accept = std::get<AcceptCommand>(*msg);
  EXPECT_EQ(accept.id, "4cb5");
  ASSERT_NE(find_header(accept.connect_headers, "sec-websocket-key"), nullptr);
  EXPECT_EQ(*find_header(accept.connect_headers, "sec-websocket-key"), "abc");
  ASSERT_TRUE(accept.remote_endpoint);
  EXPECT_EQ(accept.remote_endpoint->port, 53462);
}

TEST(ControlMessages, AcceptsStatusCodeAsNumberOrString) {
  auto numeric = parse_control_message(
      R"({"response":{"requestId":"r1","statusCode":200,"responseHeaders":{"content-type":"a/b"},"body":true}})");
  auto text = parse_control_message(
      R"({"response":{"requestId":"r1","statusCode":"404","statusDescription":"Not Found"}})");
  ASSERT_TRUE(numeric) << numeric.error().message;
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(std::get<ResponseCommand>(*numeric).status_code, 200);
  EXPECT_TRUE(std::get<ResponseCommand>(*numeric).body);
  EXPECT_EQ(std::get<ResponseCommand>(*text).status_code, 404);
  EXPECT_FALSE(std::get<ResponseCommand>(*text).body);
}

TEST(ControlMessages, RejectsMalformedMessagesWithAReason) {
  for (const char* bad :
       {"not json", "[]", R"({"a":{},"b":{}})", R"({"response":{"statusCode":200}})",
        R"({"response":{"requestId":"r","statusCode":"OK"}})",
        R"({"response":{"requestId":"r","statusCode":99}})", R"({"renewToken":{}})",
        R"({"accept":{"id":"x"}})", R"({"gwprobeLoad":{"cpu":1.5}})",
        R"({"gwprobeLoad":{"memory":"x"}})", R"({"request":{"id":"x"}})"}) {
    auto msg = parse_control_message(bad);
    EXPECT_FALSE(msg) << bad;
    if (!msg) {
      EXPECT_EQ(msg.error().kind, core::FailureKind::protocol);
    }
  }
}

TEST(ControlMessages, AnUnknownCommandIsReportedByNameNotAsAnError) {
  auto msg = parse_control_message(R"({"injectFault":{"delay":"00:00:01"}})");
  ASSERT_TRUE(msg);
  EXPECT_EQ(std::get<UnknownCommand>(*msg).name, "injectFault");
}

TEST(ControlMessages, AnAddressOnlyRequestHasNoMethodAndSerializesWithoutOne) {
  RequestCommand request{
      "wss://r/$hc/p?sb-hc-action=request&sb-hc-id=1", "1", {}, {}, {}, {}, false};
  const auto json = nlohmann::json::parse(serialize(request));
  EXPECT_FALSE(json["request"].contains("method"));
  EXPECT_FALSE(json["request"].contains("body"));
  auto back = parse_control_message(serialize(request));
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::get<RequestCommand>(*back).address_only());
}

TEST(ControlMessages, AFullRequestRoundTripsWithHeadersAndBodyFlag) {
  RequestCommand request;
  request.address = "wss://r/$hc/p?sb-hc-action=request&sb-hc-id=2";
  request.id = "2";
  request.request_target = "/p/query?x=1";
  request.method = "POST";
  request.request_headers = {{"content-type", "text/plain"}, {"x-multi", "a"}, {"x-multi", "b"}};
  request.body = true;
  request.remote_endpoint = RemoteEndpoint{"127.0.0.1", 4242};
  auto back = parse_control_message(serialize(request));
  ASSERT_TRUE(back) << back.error().message;
  const auto& r = std::get<RequestCommand>(*back);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.request_target, "/p/query?x=1");
  EXPECT_TRUE(r.body);
  EXPECT_EQ(*find_header(r.request_headers, "x-multi"), "a, b");
  EXPECT_EQ(r.remote_endpoint->port, 4242);
}

TEST(ControlMessages, RenewTokenAndLoadReportRoundTrip) {
  auto renew = parse_control_message(serialize(RenewTokenCommand{"SharedAccessSignature x"}));
  ASSERT_TRUE(renew);
  EXPECT_EQ(std::get<RenewTokenCommand>(*renew).token, "SharedAccessSignature x");
  auto load = parse_control_message(serialize(LoadReportCommand{0.25, 0.75}));
  ASSERT_TRUE(load);
  EXPECT_DOUBLE_EQ(std::get<LoadReportCommand>(*load).cpu, 0.25);
  EXPECT_DOUBLE_EQ(std::get<LoadReportCommand>(*load).memory, 0.75);
  EXPECT_EQ(serialize(LoadReportCommand{0.5, 0}), R"({"gwprobeLoad":{"cpu":0.5,"memory":0.0}})");
}

TEST(ControlMessages, AResponseSerializesItsNumericStatus) {
  ResponseCommand response{"r9", 201, "Created", {{"via", "1.1 gw"}}, true};
  EXPECT_EQ(
      serialize(response),
      R"({"response":{"requestId":"r9","statusCode":201,"statusDescription":"Created","responseHeaders":{"via":"1.1 gw"},"body":true}})");
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
