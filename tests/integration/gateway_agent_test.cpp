// `gwprobe gateway run` against the real `gwprobe relay`, with a minimal sender in the test
// (open_websocket with sb-hc-action=connect and a Send token): a whole SQLite answer with a
// matching digest, a database error and the next query, a relay killed mid-stream and
// restarted, a wrong Listen key, and logs free of keys and tokens.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "gateway/protocol/query_messages.hpp"
#include "gateway/protocol/sas.hpp"
#include "probes/probe.hpp"
#include "probes/websocket/websocket_probe.hpp"
#include "tests/fixtures/child_process.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::gateway {
namespace {

using namespace std::chrono_literals;
using protocol::QueryStage;
using testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessOptions;
using testing::ScratchDir;

constexpr const char* kHcPath = "gwprobe-demo";
constexpr const char* kCurl = "/usr/bin/curl";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

/// The children talk to loopback only: no proxy from the environment.
ProcessOptions no_proxy_env() {
  ProcessOptions o;
  o.unset_env = {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                 "ALL_PROXY",   "all_proxy",   "NO_PROXY",   "no_proxy"};
  return o;
}

/// Demo material (relay init) and a sample database, made once for the whole suite.
struct Material {
  ScratchDir scratch;
  std::string dir = scratch.path() + "/relay";
  std::string db = scratch.path() + "/sample.db";
  std::string big_db = scratch.path() + "/big.db";
  std::string identity = scratch.path() + "/identity";
  std::string sealed;  ///< "db-password" sealed to the identity's public key
  bool ok = false;

  Material() {
    const auto bin = testing::gwprobe_binary();
    ok = testing::run_process({bin, "relay", "init", dir}).exit_code == 0 &&
         testing::run_process({bin, "gateway", "sample-db", "--out", db, "--rows", "5000"})
                 .exit_code == 0 &&
         testing::run_process({bin, "gateway", "sample-db", "--out", big_db, "--rows", "200000"},
                              [] {
                                ProcessOptions o;
                                o.timeout = 120s;
                                return o;
                              }())
                 .exit_code == 0 &&
         testing::run_process({bin, "gateway", "keygen", "--out", identity}).exit_code == 0;
    if (!ok) return;
    const auto secret = scratch.write("db.password", "db-password\n");
    const auto sealing =
        testing::run_process({bin, "gateway", "seal", "--public-key",
                              identity + "/gateway-identity.pub", "--secret-file", secret});
    sealed = sealing.out;
    while (!sealed.empty() && sealed.back() == '\n') sealed.pop_back();
    ok = sealing.exit_code == 0 && !sealed.empty();
  }
  std::string file(const char* name) const { return dir + "/" + name; }
};

const Material& material() {
  static Material m;
  return m;
}

class Relay {
 public:
  explicit Relay(std::uint16_t port = 0)
      : child_({testing::gwprobe_binary(), "relay", "--dir", material().dir, "--listen",
                "127.0.0.1:" + std::to_string(port)},
               no_proxy_env()) {
    eventually([&] { return port_of() != 0; }, 15s);
    port_ = port_of();
  }
  std::uint16_t port() const { return port_; }
  ChildProcess& child() { return child_; }

 private:
  std::uint16_t port_of() const {
    std::istringstream lines(child_.err());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"relay_listening\"") == std::string::npos) continue;
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("port")) return j["port"].get<std::uint16_t>();
    }
    return 0;
  }
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

std::string relay_url(std::uint16_t port) {
  return "wss://127.0.0.1:" + std::to_string(port) + "/$hc/" + kHcPath;
}

class Gateway {
 public:
  Gateway(std::uint16_t port, const std::string& db, const std::string& key_file)
      : child_(
            {testing::gwprobe_binary(), "gateway", "run", "--relay", relay_url(port), "--key-name",
             "gateway", "--key-file", key_file, "--ca-file", material().file("ca.pem"),
             "--datasource-sqlite", db, "--workers", "4", "--load-interval", "1s", "--identity",
             material().identity + "/gateway-identity.key"},
            no_proxy_env()) {}
  std::size_t count(const std::string& event) const {
    const auto log = child_.err();
    std::size_t n = 0;
    for (auto at = log.find("\"" + event + "\""); at != std::string::npos;
         at = log.find("\"" + event + "\"", at + 1)) {
      ++n;
    }
    return n;
  }
  bool wait_for(const std::string& event, std::size_t times, std::chrono::milliseconds limit) {
    return eventually([&] { return count(event) >= times; }, limit);
  }
  ChildProcess& child() { return child_; }

 private:
  ChildProcess child_;
};

struct Answer {
  bool opened = false;
  std::string open_failure;
  std::optional<protocol::QueryColumns> columns;
  std::vector<protocol::Row> rows;
  std::optional<protocol::QueryTrailer> trailer;
  std::optional<protocol::QueryError> error;
  bool ended = false;  ///< the connection ended (without our close)
};

/// The minimal sender: connect through the relay with a Send token, send one request, read the
/// answer. `after_first_frame` runs once, right after the first answer frame arrived.
Answer ask(std::uint16_t port, const protocol::QueryRequest& request,
           const std::function<void()>& after_first_frame = {}) {
  Answer answer;
  probes::websocket::WebSocketOptions options;
  options.path = std::string("/$hc/") + kHcPath + "?sb-hc-action=connect";
  options.use_tls = true;
  options.tls.use_system_store = false;
  options.tls.ca_file = material().file("ca.pem");
  options.tls.expiry_warning_days = 0;
  const auto resource =
      protocol::sas_resource_uri(relay_url(port), protocol::SdkStyle::node).value();
  const core::Secret client_key(slurp(material().file("client.key")));
  options.token = [&]() -> core::Result<probes::websocket::RelayToken> {
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch() + 1h)
                            .count();
    return probes::websocket::RelayToken{
        core::Secret(protocol::create_sas_token(resource, "client", client_key, expiry)), "test"};
  };
  probes::ProbeContext context;
  context.deadline = core::Deadline::after(20s);
  probes::websocket::WebSocketGroup group;
  core::ProbeResult into;
  const auto id = probes::websocket::open_websocket(core::Target{"127.0.0.1", port}, options,
                                                    context, group, into);
  if (!id) {
    answer.open_failure = into.message;
    return answer;
  }
  answer.opened = true;
  group.watch(*id);
  group.send_text(*id, protocol::serialize(request));
  bool first = true;
  const auto until = core::SteadyClock::now() + 60s;
  while (!answer.trailer && !answer.error && !answer.ended && core::SteadyClock::now() < until) {
    for (const auto& e : group.wait(until, core::CancelToken{})) {
      using Kind = probes::websocket::ConnectionEvent::Kind;
      if (e.kind == Kind::ended) {
        answer.ended = true;
        continue;
      }
      if (e.kind != Kind::message) continue;
      auto message = protocol::parse_query_message(e.detail);
      EXPECT_TRUE(message.has_value()) << e.detail.substr(0, 200);
      if (!message) continue;
      if (auto* c = std::get_if<protocol::QueryColumns>(&*message)) answer.columns = *c;
      if (auto* r = std::get_if<protocol::QueryRows>(&*message)) {
        for (auto& row : r->rows) answer.rows.push_back(std::move(row));
      }
      if (auto* t = std::get_if<protocol::QueryTrailer>(&*message)) answer.trailer = *t;
      if (auto* q = std::get_if<protocol::QueryError>(&*message)) answer.error = *q;
      if (first && after_first_frame) {
        first = false;
        after_first_frame();
      }
    }
  }
  group.close(*id);
  return answer;
}

protocol::QueryRequest query(std::string id, std::string sql) {
  return protocol::QueryRequest{std::move(id), "", std::move(sql), std::nullopt};
}

/// Text that must never reach a log: the keys and anything token- or address-shaped.
void expect_no_secrets(const std::string& log) {
  EXPECT_THAT(log, Not(HasSubstr(slurp(material().file("gateway.key")))));
  EXPECT_THAT(log, Not(HasSubstr(slurp(material().file("client.key")))));
  EXPECT_THAT(log, Not(HasSubstr("SharedAccessSignature")));
  EXPECT_THAT(log, Not(HasSubstr("sig=")));
  EXPECT_THAT(log, Not(HasSubstr("sb-hc-id")));
  EXPECT_THAT(log, Not(HasSubstr("sb-hc-action=accept")));
  EXPECT_THAT(log, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(log, Not(HasSubstr("db-password")));
  EXPECT_THAT(log, Not(HasSubstr(material().sealed)));
}

class GatewayAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(material().ok) << "relay init / gateway sample-db failed"; }
};

bool listener_online(std::uint16_t port);  // below: reads the relay's /$status

TEST_F(GatewayAgentTest, ServesAWholeAnswerThenADatabaseErrorThenTheNextQuery) {
  Relay relay;
  ASSERT_NE(relay.port(), 0) << relay.child().err();
  Gateway gateway(relay.port(), material().db, material().file("gateway.key"));
  ASSERT_TRUE(gateway.wait_for("gateway_connected", 1, 15s)) << gateway.child().err();
  // And the relay's own word that it registered the gateway (logged as it answers the 101).
  ASSERT_TRUE(eventually([&] { return listener_online(relay.port()); }, 5s));

  // (a) every row, and a trailer whose digest is the one we compute over what arrived.
  const auto all = ask(relay.port(), query("q-all", "select * from sample order by id"));
  ASSERT_TRUE(all.opened) << all.open_failure;
  ASSERT_FALSE(all.error.has_value()) << all.error->message;
  ASSERT_TRUE(all.columns.has_value());
  EXPECT_EQ(all.columns->id, "q-all");
  EXPECT_EQ(all.columns->names.front(), "id");
  ASSERT_TRUE(all.trailer.has_value());
  EXPECT_EQ(all.rows.size(), 5000u);
  EXPECT_EQ(all.trailer->rows, 5000u);
  protocol::RowDigest digest;
  for (const auto& row : all.rows) digest.add(row);
  EXPECT_EQ(all.trailer->sha256, digest.hex());

  // (c) sqlite's own message, stage database...
  const auto bad = ask(relay.port(), query("q-bad", "select * from no_such_table"));
  ASSERT_TRUE(bad.opened) << bad.open_failure;
  ASSERT_TRUE(bad.error.has_value());
  EXPECT_EQ(bad.error->id, "q-bad");
  EXPECT_EQ(bad.error->stage, QueryStage::database);
  EXPECT_THAT(bad.error->message, HasSubstr("no such table"));
  EXPECT_FALSE(bad.trailer.has_value());

  // ...and the agent goes on serving.
  const auto next = ask(relay.port(), query("q-next", "select count(*) from sample"));
  ASSERT_TRUE(next.trailer.has_value());
  ASSERT_EQ(next.rows.size(), 1u);
  EXPECT_EQ(next.rows[0][0], "5000");
  EXPECT_TRUE(gateway.wait_for("query_done", 2, 5s));
  EXPECT_TRUE(gateway.wait_for("query_failed", 1, 5s));
  EXPECT_THAT(gateway.child().err(), HasSubstr("\"stage\":\"database\""));

  // Sealed credentials: opened with --identity (SQLite needs no password, so the query just
  // runs); a tampered value is refused at stage credentials.
  auto sealed_request = query("q-sealed", "select 1");
  sealed_request.sealed_credentials = material().sealed;
  const auto opened = ask(relay.port(), sealed_request);
  EXPECT_TRUE(opened.trailer.has_value()) << (opened.error ? opened.error->message : "");
  auto forged = material().sealed;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  sealed_request.sealed_credentials = forged;
  const auto refused = ask(relay.port(), sealed_request);
  ASSERT_TRUE(refused.error.has_value());
  EXPECT_EQ(refused.error->stage, QueryStage::credentials);

  // (e) a gateway on SQLite never mapped libcurl, libpq or libpcap (opened on first use only:
  // with them, and the ~40 libraries they pull in, an idle gateway is 5 MB larger).
  const auto maps = slurp("/proc/" + std::to_string(gateway.child().pid()) + "/maps");
  ASSERT_THAT(maps, HasSubstr("libcrypto.so"));  // the file was read
  EXPECT_THAT(maps, Not(HasSubstr("libcurl.so")));
  EXPECT_THAT(maps, Not(HasSubstr("libpq.so")));
  EXPECT_THAT(maps, Not(HasSubstr("libpcap.so")));
  EXPECT_THAT(maps, Not(HasSubstr("libgnutls.so")));

  // (f) clean logs, on both sides.
  gateway.child().signal(SIGTERM);
  EXPECT_EQ(gateway.child().wait(15s), 0) << gateway.child().err();
  EXPECT_GE(gateway.count("gateway_stopped"), 1u);
  expect_no_secrets(gateway.child().err());
  expect_no_secrets(relay.child().err());
}

/// The relay's /$status?format=json (null when it cannot be read).
nlohmann::json relay_status(std::uint16_t port) {
  ProcessOptions o = no_proxy_env();
  o.timeout = 3s;
  const auto r =
      testing::run_process({kCurl, "-s", "--max-time", "2", "--cacert", material().file("ca.pem"),
                            "https://127.0.0.1:" + std::to_string(port) + "/$status?format=json"},
                           o);
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

/// The memory fraction the first online member of kHcPath reported (gwprobeLoad), or -1.
double reported_memory(std::uint16_t port) {
  const auto j = relay_status(port);
  if (!j.is_object() || !j.contains("clusters")) return -1;
  for (const auto& c : j["clusters"]) {
    if (c.value("path", "") == kHcPath && !c["online"].empty()) {
      return c["online"][0].value("memory", -1.0);
    }
  }
  return -1;
}

/// True once the relay's /$status shows a member of kHcPath online.
bool listener_online(std::uint16_t port) {
  const auto j = relay_status(port);
  if (!j.is_object() || !j.contains("clusters")) return false;
  for (const auto& c : j["clusters"]) {
    if (c.value("path", "") == kHcPath && !c["online"].empty()) return true;
  }
  return false;
}

TEST_F(GatewayAgentTest, ARelayKilledMidStreamEndsTheAnswerAndTheAgentIsBackWithinTheCap) {
  if (!std::filesystem::exists(kCurl)) GTEST_SKIP() << "no " << kCurl << " to read /$status";
  auto relay = std::make_unique<Relay>();
  const auto port = relay->port();
  ASSERT_NE(port, 0) << relay->child().err();
  Gateway gateway(port, material().big_db, material().file("gateway.key"));
  ASSERT_TRUE(gateway.wait_for("gateway_connected", 1, 15s)) << gateway.child().err();
  ASSERT_TRUE(eventually([&] { return listener_online(port); }, 5s));
  // Its gwprobeLoad reports (every second here) reach the relay.
  EXPECT_TRUE(eventually([&] { return reported_memory(port) > 0.0; }, 5s));

  // (b) the relay dies after the first frame of a 200,000-row answer.
  const auto cut = ask(port, query("q-cut", "select * from sample"), [&] {
    relay->child().signal(SIGKILL);
    relay->child().wait(5s);
  });
  ASSERT_TRUE(cut.opened) << cut.open_failure;
  EXPECT_TRUE(cut.ended);
  EXPECT_FALSE(cut.trailer.has_value());
  EXPECT_LT(cut.rows.size(), 200000u);
  ASSERT_TRUE(gateway.wait_for("gateway_disconnected", 1, 5s)) << gateway.child().err();

  relay = std::make_unique<Relay>(port);
  ASSERT_EQ(relay->port(), port) << relay->child().err();
  const auto restarted = std::chrono::steady_clock::now();
  // The backoff never waits more than its 5 s cap; one more second for the TLS connect and
  // the polling.
  EXPECT_TRUE(eventually([&] { return listener_online(port); }, 6s)) << gateway.child().err();
  const auto back_after = std::chrono::steady_clock::now() - restarted;
  std::printf("agent back %lld ms after the relay restarted\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(back_after).count()));
  const auto again = ask(port, query("q-again", "select count(*) from sample"));
  ASSERT_TRUE(again.trailer.has_value());
  EXPECT_EQ(again.rows.at(0).at(0), "200000");
  expect_no_secrets(gateway.child().err());
}

TEST_F(GatewayAgentTest, AWrongListenKeyIsLoggedAndRetriedWithoutExiting) {
  Relay relay;
  ASSERT_NE(relay.port(), 0) << relay.child().err();
  ScratchDir scratch;
  const std::string wrong_key = "not-the-gateway-key-0123456789abcdef";
  const auto key_file = scratch.write("wrong.key", wrong_key + "\n");
  Gateway gateway(relay.port(), material().db, key_file);
  // (d) logged clearly, and tried again at the cap (5 s) rather than given up.
  ASSERT_TRUE(gateway.wait_for("gateway_auth_failed", 2, 12s)) << gateway.child().err();
  EXPECT_THAT(gateway.child().err(), HasSubstr("\"status\":\"401\""));
  EXPECT_EQ(gateway.count("gateway_connected"), 0u);
  EXPECT_EQ(::kill(gateway.child().pid(), 0), 0);  // still running
  gateway.child().signal(SIGINT);
  EXPECT_EQ(gateway.child().wait(15s), 0);
  EXPECT_THAT(gateway.child().err(), Not(HasSubstr(wrong_key)));
  expect_no_secrets(gateway.child().err());
}

}  // namespace
}  // namespace gwprobe::gateway
