// GatewayAgent in-process against the real `gwprobe relay` (a child process on port 0) with a
// fake data source and a minimal sender: answers through the relay, busy beyond the workers,
// back after a relay restart, a prompt stop, and a log without keys or tokens.
#include "gateway/agent/gateway_agent.hpp"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/url.hpp"
#include "gateway/protocol/sas.hpp"
#include "probes/probe.hpp"
#include "probes/websocket/websocket_probe.hpp"
#include "tests/fixtures/child_process.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::gateway::agent {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPath = "agent-test";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  auto text = s.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

/// Rows 0..n-1; with a gate, run() waits until the gate opens (a query that stays busy).
class FakeSource : public datasource::DataSource {
 public:
  explicit FakeSource(std::size_t rows) : rows_(rows) {}
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "sqlite"; }
  core::Result<void> run(std::string_view sql, const std::optional<core::Secret>&,
                         datasource::RowSink& sink, const core::Deadline&) const override {
    if (sql == "fail")
      return core::fail(core::FailureKind::invalid_input, "near \"fail\": syntax error");
    if (sql == "wait") {
      std::unique_lock lock(mutex_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait_for(lock, 20s, [&] { return open_; });
    }
    if (auto c = sink.columns({"n"}); !c) return c;
    for (std::size_t i = 0; i < rows_; ++i) {
      if (auto r = sink.row({std::to_string(i)}); !r) return r;
    }
    return {};
  }
  void open_gate() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiter() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return waiting_ > 0; });
  }

 private:
  std::string name_ = "fake";
  std::size_t rows_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable int waiting_ = 0;
  bool open_ = false;
};

class AgentFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_process({testing::gwprobe_binary(), "relay", "init", dir_}).exit_code,
              0);
    start_relay(0);
    ASSERT_NE(port_, 0) << relay_->err();
  }
  void TearDown() override {
    stop_.cancel();
    if (agent_thread_.joinable()) agent_thread_.join();
  }

  static testing::ProcessOptions no_proxy() {
    testing::ProcessOptions o;
    o.unset_env = {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                   "http_proxy",  "ALL_PROXY",   "all_proxy"};
    return o;
  }

  void start_relay(std::uint16_t port) {
    relay_.reset();
    relay_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{testing::gwprobe_binary(), "relay", "--dir", dir_, "--listen",
                                 "127.0.0.1:" + std::to_string(port)},
        no_proxy());
    std::uint16_t found = 0;
    eventually(
        [&] {
          std::istringstream lines(relay_->err());
          for (std::string line; std::getline(lines, line);) {
            if (line.find("relay_listening") == std::string::npos) continue;
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_object()) found = j.value("port", 0);
          }
          return found != 0;
        },
        15s);
    port_ = found;
  }

  std::string url() const { return "wss://127.0.0.1:" + std::to_string(port_) + "/$hc/" + kPath; }

  void start_agent(std::size_t rows, std::size_t workers = 4,
                   std::chrono::seconds token_ttl = std::chrono::seconds(3600),
                   std::optional<probes::proxy::ProxyEndpoint> proxy = std::nullopt) {
    auto set = std::make_shared<DataSourceSet>();
    auto fake = std::make_unique<FakeSource>(rows);
    source_ = fake.get();
    ASSERT_TRUE(set->add(std::move(fake)).has_value());
    GatewayAgentOptions o;
    o.relay_url = url();
    o.key_name = "gateway";
    o.key = core::Secret(slurp(dir_ + "/gateway.key"));
    o.ca_file = dir_ + "/ca.pem";
    o.datasources = set;
    o.workers = workers;
    o.load_interval = 500ms;
    o.token_ttl = token_ttl;
    o.proxy = std::move(proxy);
    o.stop_grace = 2s;
    auto log = std::make_shared<relay::JsonLog>([this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(line);
    });
    agent_ = std::make_unique<GatewayAgent>(std::move(o), log);
    agent_thread_ = std::thread([this] { result_ = agent_->run(stop_); });
  }

  std::string log() const {
    std::lock_guard lock(log_mutex_);
    return log_;
  }
  std::size_t count(const std::string& event) const {
    const auto text = log();
    std::size_t n = 0;
    for (auto at = text.find("\"" + event + "\""); at != std::string::npos;
         at = text.find("\"" + event + "\"", at + 1)) {
      ++n;
    }
    return n;
  }

  /// The agent's n-th gateway_connected and the relay's own listener_online for it (logged as
  /// the relay answers the 101, so it confirms rather than waits).
  bool connected(std::size_t n, std::size_t online_at_relay, std::chrono::milliseconds within) {
    return eventually(
        [&] {
          const auto relay_log = relay_->err();
          std::size_t online = 0;
          for (auto at = relay_log.find("\"listener_online\""); at != std::string::npos;
               at = relay_log.find("\"listener_online\"", at + 1)) {
            ++online;
          }
          return count("gateway_connected") == n && online == online_at_relay;
        },
        within);
  }

  struct Answer {
    std::vector<protocol::Row> rows;
    std::optional<protocol::QueryTrailer> trailer;
    std::optional<protocol::QueryError> error;
    std::string failure;
  };

  Answer ask(const std::string& id, const std::string& sql) const {
    Answer answer;
    probes::websocket::WebSocketOptions options;
    options.path = std::string("/$hc/") + kPath + "?sb-hc-action=connect";
    options.tls.use_system_store = false;
    options.tls.ca_file = dir_ + "/ca.pem";
    const auto resource = protocol::sas_resource_uri(url(), protocol::SdkStyle::node).value();
    const core::Secret key(slurp(dir_ + "/client.key"));
    options.token = [&]() -> core::Result<probes::websocket::RelayToken> {
      const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch() + 1h)
                              .count();
      return probes::websocket::RelayToken{
          core::Secret(protocol::create_sas_token(resource, "client", key, expiry)), "test"};
    };
    probes::ProbeContext context;
    context.deadline = core::Deadline::after(20s);
    probes::websocket::WebSocketGroup group;
    core::ProbeResult into;
    const auto cid = probes::websocket::open_websocket(core::Target{"127.0.0.1", port_}, options,
                                                       context, group, into);
    if (!cid) {
      answer.failure = into.message;
      return answer;
    }
    group.watch(*cid);
    group.send_text(*cid, protocol::serialize(protocol::QueryRequest{id, "", sql, std::nullopt}));
    const auto until = core::SteadyClock::now() + 30s;
    bool ended = false;
    while (!answer.trailer && !answer.error && !ended && core::SteadyClock::now() < until) {
      for (const auto& e : group.wait(until, core::CancelToken{})) {
        if (e.kind == probes::websocket::ConnectionEvent::Kind::ended) ended = true;
        if (e.kind != probes::websocket::ConnectionEvent::Kind::message) continue;
        auto m = protocol::parse_query_message(e.detail);
        if (!m) continue;
        if (auto* r = std::get_if<protocol::QueryRows>(&*m)) {
          for (auto& row : r->rows) answer.rows.push_back(row);
        }
        if (auto* t = std::get_if<protocol::QueryTrailer>(&*m)) answer.trailer = *t;
        if (auto* q = std::get_if<protocol::QueryError>(&*m)) answer.error = *q;
      }
    }
    if (ended && !answer.trailer && !answer.error) answer.failure = "ended";
    group.close(*cid);
    return answer;
  }

  testing::ScratchDir scratch_;
  std::string dir_ = scratch_.path() + "/relay";
  std::unique_ptr<testing::ChildProcess> relay_;
  std::uint16_t port_ = 0;
  FakeSource* source_ = nullptr;
  std::unique_ptr<GatewayAgent> agent_;
  std::thread agent_thread_;
  core::CancelToken stop_;
  core::Result<void> result_ = core::fail(core::FailureKind::internal, "not run");
  mutable std::mutex log_mutex_;
  std::string log_;
};

TEST_F(AgentFixture, AnswersThroughTheRelayWithAMatchingDigestAndAnErrorStage) {
  start_agent(1234);
  ASSERT_TRUE(connected(1, 1, 15s)) << log() << relay_->err();
  const auto a = ask("q1", "select");
  ASSERT_TRUE(a.trailer.has_value()) << a.failure << log();
  EXPECT_EQ(a.rows.size(), 1234u);
  protocol::RowDigest digest;
  for (const auto& r : a.rows) digest.add(r);
  EXPECT_EQ(a.trailer->sha256, digest.hex());
  const auto bad = ask("q2", "fail");
  ASSERT_TRUE(bad.error.has_value()) << bad.failure;
  EXPECT_EQ(bad.error->stage, protocol::QueryStage::database);
  EXPECT_THAT(bad.error->message, HasSubstr("syntax error"));
  EXPECT_TRUE(
      eventually([&] { return count("query_done") == 1 && count("query_failed") == 1; }, 5s))
      << log();
  stop_.cancel();
  agent_thread_.join();
  EXPECT_TRUE(result_.has_value());
  EXPECT_EQ(count("gateway_stopped"), 1u);
  const auto text = log();
  EXPECT_THAT(text, Not(HasSubstr(slurp(dir_ + "/gateway.key"))));
  EXPECT_THAT(text, Not(HasSubstr("SharedAccessSignature")));
  EXPECT_THAT(text, Not(HasSubstr("sb-hc-id")));
}

TEST_F(AgentFixture, QueriesBeyondTheWorkersAreBusy) {
  start_agent(3, 1);
  ASSERT_TRUE(connected(1, 1, 15s)) << log() << relay_->err();
  Answer first;
  std::thread slow([&] { first = ask("slow", "wait"); });
  ASSERT_TRUE(source_->wait_for_waiter());
  const auto second = ask("second", "select");
  ASSERT_TRUE(second.error.has_value()) << second.failure;
  EXPECT_EQ(second.error->stage, protocol::QueryStage::busy);
  source_->open_gate();
  slow.join();
  ASSERT_TRUE(first.trailer.has_value()) << first.failure;
  EXPECT_EQ(first.trailer->rows, 3u);
  EXPECT_TRUE(ask("third", "select").trailer.has_value());
}

TEST_F(AgentFixture, TheAgentIsBackWithinTheCapAfterTheRelayRestarts) {
  start_agent(10);
  ASSERT_TRUE(connected(1, 1, 15s)) << log() << relay_->err();
  const auto port = port_;
  relay_->signal(SIGKILL);
  relay_->wait(5s);
  ASSERT_TRUE(eventually([&] { return count("gateway_disconnected") == 1; }, 5s)) << log();
  std::this_thread::sleep_for(1s);  // a few failed attempts while it is down
  start_relay(port);
  ASSERT_EQ(port_, port);
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(connected(2, 1, 6s)) << log() << relay_->err();
  std::printf("back after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - restarted)
                                         .count()));
  EXPECT_TRUE(ask("after", "select").trailer.has_value());
}

TEST_F(AgentFixture, TheTokenIsRenewedBeforeItExpiresSoTheRelayKeepsTheListener) {
  start_agent(1, 4, std::chrono::seconds(10));  // renewed at 8 s; the relay drops it at 10 s
  ASSERT_TRUE(connected(1, 1, 15s)) << log() << relay_->err();
  ASSERT_TRUE(eventually([&] { return count("token_renewed") >= 1; }, 10s)) << log();
  std::this_thread::sleep_for(4s);  // past the first token's expiry
  EXPECT_EQ(count("gateway_disconnected"), 0u) << log();
  EXPECT_EQ(count("gateway_connected"), 1u);
  EXPECT_TRUE(ask("late", "select").trailer.has_value());
}

TEST_F(AgentFixture, ThroughAnAuthenticatingProxyBothLegsAreTunnelled) {
  testing::HttpProxyConfig config;
  config.user = "alice";
  config.password = "proxy-pass-9876";
  testing::HttpProxy proxy(config);
  probes::proxy::ProxyEndpoint endpoint;
  endpoint.url =
      core::parse_url("http://alice:proxy-pass-9876@127.0.0.1:" + std::to_string(proxy.port()))
          .value();
  endpoint.source = "from --proxy";
  start_agent(7, 4, std::chrono::seconds(3600), endpoint);
  ASSERT_TRUE(connected(1, 1, 15s)) << log() << relay_->err();
  const auto a = ask("via-proxy", "select");
  ASSERT_TRUE(a.trailer.has_value()) << a.failure << log();
  EXPECT_EQ(a.trailer->rows, 7u);
  EXPECT_GE(proxy.tunnels(), 2);  // the control channel and the rendezvous
  for (const auto& r : proxy.requests()) EXPECT_EQ(r.method, "CONNECT");
  EXPECT_THAT(log(), Not(HasSubstr("proxy-pass-9876")));
}

TEST_F(AgentFixture, InvalidOptionsFailRunWithoutTouchingTheNetwork) {
  GatewayAgentOptions o;
  o.relay_url = "https://example.invalid/$hc/x";
  o.key_name = "gateway";
  o.key = core::Secret("k");
  auto set = std::make_shared<DataSourceSet>();
  ASSERT_TRUE(set->add(std::make_unique<FakeSource>(1)).has_value());
  o.datasources = set;
  EXPECT_FALSE(validate(o).has_value());
  o.relay_url = "wss://127.0.0.1:1/$hc/x?a=b";
  EXPECT_FALSE(validate(o).has_value());
  o.relay_url = "wss://127.0.0.1:1/x";
  EXPECT_FALSE(validate(o).has_value());
  o.relay_url = "wss://127.0.0.1:1/$hc/x";
  EXPECT_TRUE(validate(o).has_value());
  o.workers = 0;
  EXPECT_FALSE(validate(o).has_value());
  o.workers = 1;
  o.datasources = std::make_shared<DataSourceSet>();
  EXPECT_FALSE(validate(o).has_value());
  GatewayAgent agent(o, std::make_shared<relay::JsonLog>([](std::string_view) {}));
  EXPECT_FALSE(agent.run(core::CancelToken{}).has_value());
}

}  // namespace
}  // namespace gwprobe::gateway::agent
