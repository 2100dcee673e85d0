// `gwprobe query` and `gwprobe probe e2e` as a user runs them, against the relay (in this
// process, 127.0.0.1:0) and a scripted gateway listener: rows and the verified summary in each
// format, a diagnosis with advice (exit 1), and usage errors (exit 2).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "gateway/relay/demo_pki.hpp"
#include "gateway/relay/relay_server.hpp"
#include "tests/fixtures/child_process.hpp"
#include "tests/fixtures/gateway_listener.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

using namespace std::chrono_literals;
namespace relay = gateway::relay;
namespace protocol = gateway::protocol;

constexpr const char* kListenKey = "listen-key-for-cli-query-tests-01";
constexpr const char* kSendKey = "send-key-for-cli-query-tests-0987";

ProcessResult gwprobe(std::vector<std::string> args) {
  args.insert(args.begin(), gwprobe_binary());
  ProcessOptions options;
  options.timeout = 30s;
  options.unset_env = {"HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                       "all_proxy",   "HTTP_PROXY",  "http_proxy"};
  return run_process(args, options);
}

class CliQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = relay::make_demo_pki("localhost");
    ASSERT_TRUE(pki) << pki.error().message;
    ca_file_ = dir_.write("ca.pem", pki->ca_cert_pem);
    send_key_file_ = dir_.write("client.key", std::string(kSendKey) + "\n");
    relay::RelayConfig config;
    config.port = 0;
    config.cert_file = dir_.write("server.pem", pki->server_cert_pem);
    config.key_file = dir_.write("server.key", pki->server_key_pem);
    ASSERT_TRUE(config.keys.add(
        {"gateway", core::Secret(kListenKey), protocol::rights_of(protocol::Right::listen)}));
    ASSERT_TRUE(config.keys.add(
        {"client", core::Secret(kSendKey), protocol::rights_of(protocol::Right::send)}));
    config.shutdown_grace = 1s;
    auto server = relay::RelayServer::create(
        std::move(config), std::make_shared<relay::JsonLog>([](std::string_view) {}));
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->run(); });
    GatewayListenerOptions listener;
    listener.relay_port = server_->port();
    listener.ca_file = ca_file_;
    listener.path = "db";
    listener.rule_name = "gateway";
    listener.key = kListenKey;
    listener.rows = {{"1", "alpha"}, {"2", std::nullopt}, {"3", "with, comma"}};
    listener_ = std::make_unique<GatewayListener>(listener);
    ASSERT_TRUE(listener_->wait_online()) << listener_->error();
  }

  void TearDown() override {
    listener_.reset();
    if (server_) {
      server_->shut_down();
      thread_.join();
    }
  }

  std::string relay_url() const {
    return "wss://127.0.0.1:" + std::to_string(server_->port()) + "/$hc/db";
  }

  std::vector<std::string> query_args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"query",  "--relay",      relay_url(),    "--key-name",
                                     "client", "--key-file",   send_key_file_, "--ca-file",
                                     ca_file_, "--datasource", "demo"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  ScratchDir dir_;
  std::string ca_file_;
  std::string send_key_file_;
  std::unique_ptr<relay::RelayServer> server_;
  std::thread thread_;
  std::unique_ptr<GatewayListener> listener_;
};

TEST_F(CliQuery, PrintsTheRowsAsATableAndTheVerifiedSummary) {
  const auto r = gwprobe(query_args({"SELECT * FROM sample"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("id | name"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1  | alpha"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NULL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 rows, sha256 verified"), std::string::npos) << r.out;
  EXPECT_EQ(listener_->last_sql(), "SELECT * FROM sample");
  EXPECT_EQ(listener_->last_datasource(), "demo");
}

TEST_F(CliQuery, CsvAndJsonKeepStdoutForTheRows) {
  const auto csv = gwprobe(query_args({"--format", "csv", "SELECT * FROM sample"}));
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "id,name\r\n1,alpha\r\n2,\r\n3,\"with, comma\"\r\n");
  EXPECT_NE(csv.err.find("3 rows, sha256 verified"), std::string::npos) << csv.err;

  const auto json = gwprobe(query_args({"-f", "json", "SELECT * FROM sample"}));
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"rows\":[[\"1\",\"alpha\"],[\"2\",null],[\"3\",\"with, comma\"]]"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"row_count\":3"), std::string::npos) << json.out;
}

TEST_F(CliQuery, AWrongSendKeyIsRelayAuthFailedWithAdviceAndExit1) {
  const auto wrong = dir_.write("wrong.key", "not-the-send-key\n");
  auto args = query_args({"SELECT 1"});
  args[6] = wrong;  // --key-file
  const auto r = gwprobe(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("RELAY_AUTH_FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("advice: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Send rights"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-send-key"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("sha256 verified"), std::string::npos);
}

TEST_F(CliQuery, NoListenerOnThePathIsRelayNoListener) {
  auto args = query_args({"SELECT 1"});
  args[2] = "wss://127.0.0.1:" + std::to_string(server_->port()) + "/$hc/nobody";
  const auto r = gwprobe(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("RELAY_NO_LISTENER"), std::string::npos) << r.err;
}

TEST_F(CliQuery, ProbeE2eReportsTheVerifiedQuery) {
  const auto r =
      gwprobe({"probe", "e2e", relay_url(), "--key-name", "client", "--key-file", send_key_file_,
               "--ca-file", ca_file_, "--sql", "SELECT * FROM sample", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"e2e\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sha256 verified"), std::string::npos) << r.out;
  EXPECT_EQ(listener_->last_sql(), "SELECT * FROM sample");
}

TEST_F(CliQuery, CheckRunsTheE2eCheckOfTheProfilesRelayWithTheSendRule) {
  const auto profile = dir_.write(
      "e2e.toml",
      "name = \"e2e\"\ntimeout = \"10s\"\n[tls]\nca_file = \"ca.pem\"\n[relay]\nurl = \"" +
          relay_url() +
          "\"\nsas_key_name = \"gateway\"\nsas_key_file = \"gateway.key\"\n"
          "send_key_name = \"client\"\nsend_key_file = \"client.key\"\n"
          "datasource = \"demo\"\nquery = \"SELECT * FROM sample\"\n");
  const auto r = gwprobe({"check", "--profile", profile, "--only", "e2e", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"e2e:127.0.0.1:" + std::to_string(server_->port()) + "\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("3 rows, sha256 verified"), std::string::npos) << r.out;
  EXPECT_EQ(listener_->last_datasource(), "demo");
  EXPECT_EQ(r.out.find(kSendKey), std::string::npos);
}

TEST(CliQueryUsage, AProfileWithAnUnreadableGatewayKeyExits2) {
  ScratchDir dir;
  dir.write("password", "pw\n");
  const auto profile = dir.write("p.toml",
                                 "name = \"p\"\n[relay]\nurl = \"wss://relay.test/$hc/db\"\n"
                                 "query = \"SELECT 1\"\ngateway_public_key = \"missing.pub\"\n"
                                 "credentials_file = \"password\"\n");
  const auto r = gwprobe({"check", "--profile", profile, "--only", "e2e"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("missing.pub does not exist"), std::string::npos) << r.err;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(CliQueryRelayBinary, QueriesThroughGwprobeRelayWithTheInitMaterial) {
  // The demo's own files (`gwprobe relay init`) and the relay binary, as the local profile uses
  // them: gateway.key (Listen) for the gateway, client.key (Send) for the query.
  ScratchDir dir;
  const std::string material = dir.path() + "/relay";
  ASSERT_EQ(gwprobe({"relay", "init", material}).exit_code, 0);
  ChildProcess relay({gwprobe_binary(), "relay", "--dir", material, "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(relay.started());
  int port = 0;
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (port == 0 && std::chrono::steady_clock::now() < end) {
    const auto err = relay.err();
    const auto at = err.find("\"event\":\"relay_listening\"");
    const auto key = at == std::string::npos ? at : err.find("\"port\":", at);
    if (key != std::string::npos) port = std::atoi(err.c_str() + key + 7);
    if (port == 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(port, 0) << relay.err();

  GatewayListenerOptions options;
  options.relay_port = static_cast<std::uint16_t>(port);
  options.ca_file = material + "/ca.pem";
  options.path = "gwprobe-demo";
  options.rule_name = "gateway";
  options.key = first_line(material + "/gateway.key");
  GatewayListener listener(options);
  ASSERT_TRUE(listener.wait_online()) << listener.error();

  const auto r =
      gwprobe({"query", "--relay", "wss://localhost:" + std::to_string(port) + "/$hc/gwprobe-demo",
               "--key-name", "client", "--key-file", material + "/client.key", "--ca-file",
               material + "/ca.pem", "SELECT * FROM sample"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 rows, sha256 verified"), std::string::npos) << r.out;
  EXPECT_EQ(relay.err().find(first_line(material + "/client.key")), std::string::npos);
  relay.signal(SIGTERM);
  EXPECT_EQ(relay.wait(10s), 0) << relay.err();
}

TEST(CliQueryUsage, BadInputExits2WithTheReason) {
  ScratchDir dir;
  const auto key = dir.write("k.key", "key\n");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"query", "SELECT 1"}, "--relay is required"},
      {{"query", "--relay", "wss://relay.test/$hc/db"}, "sql is required"},
      {{"query", "--relay", "https://relay.test/$hc/db", "SELECT 1"}, "must be wss://"},
      {{"query", "--relay", "wss://relay.test/", "SELECT 1"}, "no Hybrid Connection path"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--key-name", "client", "SELECT 1"},
       "--key-name and --key-file go together"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--key-name", "client", "--key-file",
        dir.path() + "/missing.key", "SELECT 1"},
       "--key-file: cannot read"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--gateway-public-key", key, "SELECT 1"},
       "--gateway-public-key and --credentials-file go together"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--gateway-public-key",
        dir.path() + "/missing.pub", "--credentials-file", key, "SELECT 1"},
       "missing.pub does not exist"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--format", "xml", "SELECT 1"},
       "--format: expected table, json or csv"},
      {{"query", "--relay", "wss://relay.test/$hc/db", "--timeout", "soon", "SELECT 1"},
       "--timeout"},
      {{"query", "--relay", "wss://relay.test/$hc/db", ""}, "empty"},
      {{"probe", "e2e", "wss://relay.test/", "--sql", "SELECT 1"}, "no Hybrid Connection path"},
  };
  for (const auto& c : cases) {
    const auto r = gwprobe(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.says << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace gwprobe::testing
