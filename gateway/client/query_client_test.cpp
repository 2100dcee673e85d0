// send_query against the real relay (in process, 127.0.0.1:0, a fresh demo PKI) and a scripted
// gateway listener: a verified answer, each way an answer can be broken, a refused Send token,
// no listener and a listener that never accepts; prepare_query's rejections as a table.
#include "gateway/client/query_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "gateway/client/sealed_credentials.hpp"
#include "gateway/protocol/sas.hpp"
#include "gateway/protocol/sealed.hpp"
#include "gateway/relay/demo_pki.hpp"
#include "gateway/relay/relay_server.hpp"
#include "tests/fixtures/gateway_listener.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::gateway::client {
namespace {

using namespace std::chrono_literals;
using core::Diagnosis;
using testing::GatewayListener;
using testing::GatewayListenerOptions;
using testing::GatewayScript;

constexpr const char* kListenKey = "listen-key-for-client-tests-0123";
constexpr const char* kSendKey = "send-key-for-client-tests-98765";
constexpr auto kQueryBudget = 15s;  // a bound for every query; no test waits for it to pass

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class QueryThroughRelay : public ::testing::Test {
 protected:
  void start(std::function<void(relay::RelayConfig&)> tweak = {}) {
    auto pki = relay::make_demo_pki("localhost");
    ASSERT_TRUE(pki) << pki.error().message;
    ca_file_ = dir_.write("ca.pem", pki->ca_cert_pem);
    relay::RelayConfig config;
    config.port = 0;
    config.cert_file = dir_.write("cert.pem", pki->server_cert_pem);
    config.key_file = dir_.write("key.pem", pki->server_key_pem);
    ASSERT_TRUE(config.keys.add(
        {"gateway", core::Secret(kListenKey), protocol::rights_of(protocol::Right::listen)}));
    ASSERT_TRUE(config.keys.add(
        {"client", core::Secret(kSendKey), protocol::rights_of(protocol::Right::send)}));
    config.shutdown_grace = 1s;
    if (tweak) tweak(config);
    auto log = std::make_shared<relay::JsonLog>([](std::string_view) {});
    auto server = relay::RelayServer::create(std::move(config), log);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    listener_.reset();
    if (server_) {
      server_->shut_down();
      thread_.join();
    }
  }

  void listen(GatewayScript script, const std::string& path = "db") {
    GatewayListenerOptions options;
    options.relay_port = server_->port();
    options.ca_file = ca_file_;
    options.path = path;
    options.rule_name = "gateway";
    options.key = kListenKey;
    options.script = script;
    listener_ = std::make_unique<GatewayListener>(options);
    ASSERT_TRUE(listener_->wait_online()) << listener_->error();
  }

  QueryOptions options(const std::string& path = "db", const std::string& key = kSendKey) {
    QueryOptions o;
    o.relay_url = "wss://127.0.0.1:" + std::to_string(server_->port()) + "/$hc/" + path;
    o.tls.ca_file = ca_file_;
    o.tls.use_system_store = false;
    o.sql = "SELECT * FROM sample";
    o.datasource = "demo";
    o.keep_rows = 100;
    o.token_for = [key](const std::string& url) -> probes::websocket::TokenSource {
      return [url, key]() -> core::Result<probes::websocket::RelayToken> {
        auto audience = protocol::sas_resource_uri(url, protocol::SdkStyle::node);
        if (!audience) return core::fail(audience.error());
        probes::websocket::RelayToken token;
        token.token = core::Secret(
            protocol::create_sas_token(*audience, "client", core::Secret(key), unix_now() + 600));
        token.description = "test Send token";
        return token;
      };
    };
    return o;
  }

  QueryOutcome query(const QueryOptions& o) {
    probes::ProbeContext context;
    context.deadline = core::Deadline::after(kQueryBudget);
    return send_query(o, context);
  }

  testing::ScratchDir dir_;
  std::string ca_file_;
  std::unique_ptr<relay::RelayServer> server_;
  std::thread thread_;
  std::unique_ptr<GatewayListener> listener_;
};

TEST_F(QueryThroughRelay, AGoodAnswerIsVerifiedAndItsRowsComeBack) {
  start();
  listen(GatewayScript::good_rows);
  const auto outcome = query(options());
  EXPECT_EQ(outcome.result.status, core::Status::pass) << outcome.result.message;
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::ok);
  EXPECT_NE(outcome.result.message.find("3 rows, sha256 verified"), std::string::npos)
      << outcome.result.message;
  EXPECT_EQ(outcome.row_count, 3u);
  ASSERT_EQ(outcome.rows.size(), 3u);
  EXPECT_EQ(outcome.rows[0][1], "alpha");
  EXPECT_EQ(outcome.rows[1][1], std::nullopt);
  EXPECT_EQ(outcome.columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(outcome.result.fact_text(probes::e2e::fact::rows), "3");
  EXPECT_EQ(outcome.result.fact_text(probes::e2e::fact::sha256), outcome.sha256);
  EXPECT_EQ(outcome.result.fact_text(probes::e2e::fact::datasource), "demo");
  EXPECT_EQ(outcome.result.fact_text(probes::e2e::fact::relay_url).find("sb-hc-id"),
            std::string::npos);
  EXPECT_EQ(listener_->last_sql(), "SELECT * FROM sample");
  EXPECT_EQ(listener_->last_datasource(), "demo");
  bool has_query_phase = false;
  for (const auto& p : outcome.result.phases) has_query_phase |= p.name == "query";
  EXPECT_TRUE(has_query_phase);
}

TEST_F(QueryThroughRelay, SealedCredentialsReachTheGatewayOpenableOnlyByItsKey) {
  start();
  listen(GatewayScript::good_rows);
  auto pair = protocol::generate_gateway_key();
  ASSERT_TRUE(pair) << pair.error().message;
  const auto public_key = dir_.write("gateway.pub", pair->public_pem);
  const auto password = dir_.write("db-password", "s3cr3t-db-password\n");
  auto o = options();
  auto sealed = seal_credentials_file(public_key, password);
  ASSERT_TRUE(sealed) << sealed.error().message;
  o.sealed_credentials = *sealed;
  const auto outcome = query(o);
  EXPECT_EQ(outcome.result.status, core::Status::pass) << outcome.result.message;
  const auto received = listener_->last_sealed_credentials();
  EXPECT_EQ(received.find("s3cr3t-db-password"), std::string::npos);
  auto key = protocol::GatewayKey::from_pem(pair->private_pem);
  ASSERT_TRUE(key) << key.error().message;
  const auto opened = key->open(received);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->reveal(), "s3cr3t-db-password");
}

TEST_F(QueryThroughRelay, EachBrokenAnswerIsDiagnosedNeverReportedAsSuccess) {
  start();
  struct Case {
    GatewayScript script;
    Diagnosis diagnosis;
    std::string says;
  };
  const std::vector<Case> cases = {
      {GatewayScript::wrong_digest, Diagnosis::e2e_result_corrupt, "SHA-256"},
      {GatewayScript::fewer_rows, Diagnosis::e2e_result_corrupt,
       "the trailer says 3 rows but 2 rows arrived"},
      {GatewayScript::query_error, Diagnosis::e2e_query_failed, "no such table: sample"},
      {GatewayScript::close_mid_stream, Diagnosis::e2e_result_corrupt, "after 2 rows"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string path = "db" + std::to_string(n++);
    listen(c.script, path);
    const auto outcome = query(options(path));
    EXPECT_EQ(outcome.result.status, core::Status::fail) << path;
    EXPECT_EQ(outcome.result.diagnosis, c.diagnosis) << path << ": " << outcome.result.message;
    EXPECT_NE(outcome.result.message.find(c.says), std::string::npos) << outcome.result.message;
    EXPECT_TRUE(outcome.rows.empty()) << path;  // no partial result handed out
    if (c.script == GatewayScript::query_error) {
      EXPECT_EQ(outcome.result.fact_text(probes::e2e::fact::gateway_error),
                "database: no such table: sample");
    }
  }
}

TEST_F(QueryThroughRelay, AWrongSendKeyIsRelayAuthFailed) {
  start();
  listen(GatewayScript::good_rows);
  const auto outcome = query(options("db", "not-the-send-key"));
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::relay_auth_failed) << outcome.result.message;
  EXPECT_NE(outcome.result.message.find("401"), std::string::npos) << outcome.result.message;
  EXPECT_EQ(outcome.result.message.find("not-the-send-key"), std::string::npos);
  EXPECT_EQ(listener_->accepts(), 0);
}

TEST_F(QueryThroughRelay, NoListenerOnThePathIsRelayNoListener) {
  start();
  const auto outcome = query(options("nobody-here"));
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::relay_no_listener) << outcome.result.message;
  EXPECT_NE(outcome.result.message.find("404"), std::string::npos) << outcome.result.message;
}

TEST_F(QueryThroughRelay, AListenerThatNeverAcceptsIsRelayNoListenerWithTheStatus) {
  start([](relay::RelayConfig& c) { c.limits.accept_timeout = 1s; });
  listen(GatewayScript::never_accept);
  const auto outcome = query(options());
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::relay_no_listener) << outcome.result.message;
  EXPECT_NE(outcome.result.message.find("504"), std::string::npos) << outcome.result.message;
  EXPECT_GE(listener_->accepts(), 1);
}

TEST_F(QueryThroughRelay, ADeadlineSpentWaitingForAnAcceptIsRelayNoListener) {
  start();  // the relay holds senders for 30 s: the query's own deadline comes first
  listen(GatewayScript::never_accept);
  probes::ProbeContext context;
  context.deadline = core::Deadline::after(1s);
  const auto outcome = send_query(options(), context);
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::relay_no_listener) << outcome.result.message;
  EXPECT_NE(outcome.result.message.find("no gateway accepted it before the deadline"),
            std::string::npos)
      << outcome.result.message;
}

TEST_F(QueryThroughRelay, CancellingMidQueryIsCancelledNotAFailure) {
  start();
  listen(GatewayScript::never_accept);
  probes::ProbeContext context;
  context.deadline = core::Deadline::after(kQueryBudget);
  std::thread canceller([cancel = context.cancel] {
    std::this_thread::sleep_for(300ms);
    cancel.cancel();
  });
  const auto outcome = send_query(options(), context);
  canceller.join();
  EXPECT_EQ(outcome.result.diagnosis, Diagnosis::probe_cancelled) << outcome.result.message;
  EXPECT_EQ(outcome.result.status, core::Status::error);
}

TEST_F(QueryThroughRelay, LowerLayerFailuresKeepTheirOwnDiagnosis) {
  start();
  listen(GatewayScript::good_rows);
  auto untrusted = options();
  untrusted.tls.ca_file.clear();  // the demo CA is in no system store
  untrusted.tls.use_system_store = true;
  const auto tls = query(untrusted);
  EXPECT_EQ(tls.result.diagnosis, Diagnosis::tls_untrusted) << tls.result.message;
  EXPECT_EQ(listener_->accepts(), 0);
}

TEST_F(QueryThroughRelay, TheE2eCheckRunsThroughTheProbeDispatch) {
  start();
  listen(GatewayScript::good_rows);
  auto prepared = prepare_query(options());
  ASSERT_TRUE(prepared) << prepared.error().message;
  probes::ProbeSpec spec;
  spec.id = "e2e:127.0.0.1:" + std::to_string(server_->port());
  spec.target = prepared->target;
  spec.options = prepared->options;
  probes::ProbeContext context;
  context.deadline = core::Deadline::after(kQueryBudget);
  const auto result = probes::run_probe(spec, context);
  EXPECT_EQ(result.kind, "e2e");
  EXPECT_EQ(result.status, core::Status::pass) << result.message;
  EXPECT_EQ(result.fact_text(probes::e2e::fact::rows), "3");
  // The same spec again (as watch runs its plan): a connection of its own, a fresh sb-hc-id.
  const auto again = probes::run_probe(spec, context);
  EXPECT_EQ(again.status, core::Status::pass) << again.message;
  const auto ids = listener_->accept_ids();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_NE(ids[0], ids[1]);
}

TEST(PrepareQuery, RejectsWhatCannotReachAGateway) {
  struct Case {
    std::string url;
    std::string sql;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", "SELECT 1", "not a URL"},
      {"https://relay.example/$hc/db", "SELECT 1", "must be wss://"},
      {"wss://relay.example/", "SELECT 1", "no Hybrid Connection path"},
      {"wss://relay.example/$hc/", "SELECT 1", "no Hybrid Connection path"},
      {"wss://relay.example/$hc/db", "", "empty"},
  };
  for (const auto& c : cases) {
    QueryOptions o;
    o.relay_url = c.url;
    o.sql = c.sql;
    const auto prepared = prepare_query(o);
    ASSERT_FALSE(prepared) << c.url;
    EXPECT_EQ(prepared.error().kind, core::FailureKind::invalid_input);
    EXPECT_NE(prepared.error().message.find(c.says), std::string::npos) << prepared.error().message;
  }
}

TEST(PrepareQuery, BuildsTheSendersConnectTarget) {
  QueryOptions o;
  o.relay_url = "wss://relay.example:9443/$hc/sales/db";
  o.sql = "SELECT 1";
  const auto prepared = prepare_query(o);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->target.host, "relay.example");
  EXPECT_EQ(prepared->target.port, 9443);
  EXPECT_EQ(prepared->relay_url, "wss://relay.example:9443/$hc/sales/db");
  EXPECT_EQ(
      prepared->options.websocket.path.rfind("/$hc/sales/db?sb-hc-action=connect&sb-hc-id=", 0), 0u)
      << prepared->options.websocket.path;
  EXPECT_TRUE(prepared->options.websocket.use_tls);
}

}  // namespace
}  // namespace gwprobe::gateway::client
