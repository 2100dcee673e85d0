// `check` and `probe` with proxies, WebSocket upgrades and the idle ladder: the real binary
// against loopback fixtures. Every run gets a hosts file and a mock DNS server, so no name is
// ever looked up outside the machine; proxy passwords and relay keys are asserted absent from
// every output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "core/url.hpp"
#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/http_proxy.hpp"
#include "tests/fixtures/idle_cutter.hpp"
#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"
#include "tests/fixtures/tls_server.hpp"
#include "tests/fixtures/websocket_server.hpp"

namespace gwprobe::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPassword = "Pr0xy-pa55word";
constexpr const char* kRelayKey = "relay-key-0123456789";

/// Loopback-only name resolution for the child: relay.test is 127.0.0.1, anything else asks
/// a mock server on loopback.
struct Sandbox {
  ScratchDir dir;
  MockDnsServer dns;
  std::vector<std::string> resolver_flags() const {
    return {"--hosts-file", dir.path() + "/hosts",     "--resolv-conf", dir.path() + "/resolv.conf",
            "--dns-port",   std::to_string(dns.port())};
  }
  Sandbox() {
    dir.write("hosts", "127.0.0.1 relay.test\n");
    dir.write("resolv.conf", "nameserver 127.0.0.1\n");
  }
};

struct Run {
  ProcessResult process;
  json report;
};

Run gwprobe(const Sandbox& box, std::vector<std::string> args,
            std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), gwprobe_binary());
  for (const auto& f : box.resolver_flags()) args.push_back(f);
  ProcessOptions options;
  options.env = std::move(env);
  Run run;
  run.process = run_process(args, options);
  try {
    run.report = json::parse(run.process.out);
  } catch (const std::exception&) {
    run.report = json::object();
  }
  return run;
}

const json& result(const Run& run, const std::string& id) {
  for (const auto& r : run.report["results"]) {
    if (r["id"] == id) return r;
  }
  static const json none = json::object();
  ADD_FAILURE() << "no result " << id << " in\n" << run.process.out << run.process.err;
  return none;
}

void expect_secret_absent(const Run& run, const std::string& secret) {
  EXPECT_THAT(run.process.out, Not(HasSubstr(secret)));
  EXPECT_THAT(run.process.err, Not(HasSubstr(secret)));
}

std::string relay_profile(const ScratchDir& dir, std::uint16_t port, bool tls, bool websocket,
                          const std::string& extra = "") {
  return dir.write("relay.toml",
                   "name = \"relay\"\ntimeout = \"3s\"\n[dns]\nprivate_answers_expected = "
                   "true\n[tls]\nca_file = \"" +
                       TestPki::get().public_root_file + "\"\n" + extra +
                       "[[endpoint]]\nname = \"Relay\"\nhost = \"relay.test\"\nports = [" +
                       std::to_string(port) + "]\ntls = " + (tls ? "true" : "false") +
                       "\nwebsocket = " + (websocket ? "true" : "false") +
                       "\nwebsocket_path = \"/$hc/gwprobe?sb-hc-action=listen\"\n");
}

TlsServerConfig good_tls() {
  TlsServerConfig c;
  c.chain = {TestPki::get().leaf, TestPki::get().public_intermediate};
  return c;
}

HttpProxyConfig authenticated() {
  HttpProxyConfig c;
  c.user = "alice";
  c.password = kPassword;
  return c;
}

TEST(CheckProxy, WithoutCredentialsTheProxyNeedsAuthAndTlsWaitsForIt) {
  Sandbox box;
  TlsServer server(good_tls());
  HttpProxy proxy(authenticated());
  const auto profile = relay_profile(box.dir, server.port(), true, false);
  const auto run =
      gwprobe(box, {"check", "--profile", profile, "-f", "json", "--proxy", proxy.url()});
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err;
  const auto id = "relay.test:" + std::to_string(server.port());
  EXPECT_EQ(result(run, "proxy:" + id)["diagnosis"], "PROXY_AUTH_REQUIRED");
  EXPECT_EQ(result(run, "tls:" + id)["status"], "skip");
  // No local DNS check for a host reached through the proxy; no direct TCP check either.
  for (const auto& r : run.report["results"]) {
    EXPECT_NE(r["kind"], "dns");
    EXPECT_NE(r["kind"], "tcp");
  }
}

TEST(CheckProxy, WithCredentialsFromAFileTheTunnelAndTlsPassAndThePasswordIsNeverShown) {
  Sandbox box;
  TlsServer server(good_tls());
  HttpProxy proxy(authenticated());
  const auto profile = relay_profile(box.dir, server.port(), true, false);
  const auto password_file = box.dir.write("proxy-password", std::string(kPassword) + "\n");
  for (const char* format : {"json", "text", "markdown", "junit", "prometheus", "html"}) {
    const auto run =
        gwprobe(box, {"check", "--profile", profile, "-f", format, "-v", "--proxy", proxy.url(),
                      "--proxy-user", "alice", "--proxy-password-file", password_file});
    EXPECT_EQ(run.process.exit_code, 0) << format << run.process.out << run.process.err;
    expect_secret_absent(run, kPassword);
  }
  const auto run =
      gwprobe(box, {"check", "--profile", profile, "-f", "json", "--proxy", proxy.url(),
                    "--proxy-user", "alice", "--proxy-password-file", password_file});
  const auto id = "relay.test:" + std::to_string(server.port());
  const auto& tunnel = result(run, "proxy:" + id);
  EXPECT_EQ(tunnel["diagnosis"], "OK");
  EXPECT_EQ(tunnel["facts"]["proxy_auth_used"], "Basic");
  EXPECT_EQ(tunnel["facts"]["proxy"], "http://alice:***@127.0.0.1:" + std::to_string(proxy.port()));
  EXPECT_EQ(tunnel["facts"]["direct_diagnosis"], "OK");  // loopback: the direct path works too
  EXPECT_EQ(result(run, "tls:" + id)["diagnosis"], "OK");
  EXPECT_EQ(run.report["verdict"], "ready");
  bool proxy_note = false;
  for (const auto& n : run.report["notes"]) {
    if (n["key"] == "proxy") {
      proxy_note = true;
      EXPECT_THAT(n["value"].get<std::string>(),
                  HasSubstr("(from --proxy; auth any; credentials from --proxy-user (password "
                            "from --proxy-password-file))"));
    }
  }
  EXPECT_TRUE(proxy_note);
}

TEST(CheckProxy, TheEnvironmentsProxyIsUsedRedactedAndNoProxyBypassesIt) {
  Sandbox box;
  TlsServer server(good_tls());
  HttpProxy proxy(authenticated());
  const auto profile = relay_profile(box.dir, server.port(), true, false);
  const auto url =
      "http://alice:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(proxy.port());
  auto run = gwprobe(box, {"check", "--profile", profile, "-f", "json"}, {{"https_proxy", url}});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out << run.process.err;
  expect_secret_absent(run, kPassword);
  EXPECT_EQ(proxy.tunnels(), 2);  // the proxy check's and the TLS check's
  EXPECT_THAT(run.report["notes"].dump(), HasSubstr("from https_proxy"));

  run = gwprobe(box, {"check", "--profile", profile, "-f", "json"},
                {{"HTTPS_PROXY", url}, {"NO_PROXY", ".test"}});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out << run.process.err;
  EXPECT_EQ(proxy.tunnels(), 2);  // bypassed this time: no new tunnel
  const auto id = "relay.test:" + std::to_string(server.port());
  EXPECT_EQ(result(run, "tcp:" + id)["diagnosis"], "OK");
  EXPECT_THAT(run.report["notes"].dump(), HasSubstr(id + " direct: NO_PROXY matched .test"));
}

TEST(CheckProxy, ProxyNoneGoesDirectWhateverTheEnvironmentSays) {
  Sandbox box;
  TlsServer server(good_tls());
  const auto profile = relay_profile(box.dir, server.port(), true, false);
  const auto run = gwprobe(box, {"check", "--profile", profile, "-f", "json", "--proxy", "none"},
                           {{"HTTPS_PROXY", "http://127.0.0.1:9"}});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_THAT(run.report["notes"].dump(), HasSubstr("none (--proxy none)"));
}

TEST(CheckProxy, BadProxyInputIsAOneLineUsageErrorWithoutThePassword) {
  Sandbox box;
  const auto profile = relay_profile(box.dir, 443, true, false);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--proxy", "ftp://alice:" + std::string(kPassword) + "@p:21"},
        std::vector<std::string>{"--proxy", "http://p:3128", "--proxy-auth", "kerberos"},
        std::vector<std::string>{"--proxy", "http://p:3128", "--proxy-password-file",
                                 box.dir.path() + "/missing"},
        std::vector<std::string>{"--proxy", "http://p:3128", "--proxy-user",
                                 ":" + std::string(kPassword)}}) {
    std::vector<std::string> args = {"check", "--profile", profile};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto run = gwprobe(box, args);
    EXPECT_EQ(run.process.exit_code, 2) << bad[1];
    EXPECT_THAT(run.process.err, HasSubstr("gwprobe: "));
    EXPECT_EQ(std::count(run.process.err.begin(), run.process.err.end(), '\n'), 1)
        << run.process.err;
    expect_secret_absent(run, kPassword);
  }
}

TEST(CheckWebSocket, AForwardProxyStrippingTheUpgradeIsFoundOnAWsEndpoint) {
  Sandbox box;
  WebSocketServer server(WebSocketServerConfig{});
  HttpProxyConfig strip;
  strip.upgrades = HttpProxyConfig::Upgrades::strip;
  HttpProxy proxy(strip);
  const auto profile = relay_profile(box.dir, server.port(), false, true);
  const auto run =
      gwprobe(box, {"check", "--profile", profile, "-f", "json", "--proxy", proxy.url()});
  EXPECT_EQ(run.process.exit_code, 1);
  const auto id = "relay.test:" + std::to_string(server.port());
  const auto& ws = result(run, "websocket:" + id);
  EXPECT_EQ(ws["diagnosis"], "WS_UPGRADE_STRIPPED");
  EXPECT_EQ(ws["facts"]["http_status"], 426);
  EXPECT_THAT(ws["advice"].get<std::string>(), HasSubstr("strips the WebSocket upgrade"));
}

TEST(CheckWebSocket, AnEchoServerPassesDirectly) {
  Sandbox box;
  WebSocketServer server(WebSocketServerConfig{});
  const auto profile = relay_profile(box.dir, server.port(), false, true);
  const auto run = gwprobe(box, {"check", "--profile", profile, "-f", "json"});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out;
  const auto id = "relay.test:" + std::to_string(server.port());
  EXPECT_EQ(result(run, "websocket:" + id)["diagnosis"], "OK");
  EXPECT_TRUE(result(run, "websocket:" + id)["phases"].contains("upgrade"));
}

TEST(CheckIdle, WithIdleTheLadderFindsTheCutAndPrometheusExportsIt) {
  Sandbox box;
  WebSocketServer server(WebSocketServerConfig{});
  IdleCutterConfig c;
  c.target_port = server.port();
  c.cut_after = std::chrono::milliseconds(500);
  IdleCutter cutter(c);
  const auto profile = relay_profile(box.dir, cutter.port(), false, true);
  auto run = gwprobe(
      box, {"check", "--profile", profile, "-f", "json", "--with-idle", "--idle-required", "1s"});
  EXPECT_EQ(run.process.exit_code, 1) << run.process.out << run.process.err;
  const auto id = "relay.test:" + std::to_string(cutter.port());
  const auto& idle = result(run, "idle:" + id);
  EXPECT_EQ(idle["diagnosis"], "IDLE_CUT");
  EXPECT_EQ(idle["facts"]["idle_cut_how"], "fin");
  EXPECT_LE(idle["facts"]["idle_bracket_low_seconds"].get<double>(), 0.5);
  EXPECT_GE(idle["facts"]["idle_bracket_high_seconds"].get<double>(), 0.5);
  EXPECT_THAT(idle["advice"].get<std::string>(), HasSubstr("but the gateway needs at least 1 s"));

  run = gwprobe(box, {"check", "--profile", profile, "-f", "prometheus", "--with-idle",
                      "--idle-required", "1s"});
  EXPECT_THAT(run.process.out, HasSubstr("gwprobe_idle_cut_seconds{check=\"idle:" + id));

  run = gwprobe(box, {"check", "--profile", profile, "-f", "json"});  // not asked: not planned
  for (const auto& r : run.report["results"]) EXPECT_NE(r["kind"], "idle");
  run = gwprobe(box, {"check", "--profile", profile, "--with-idle", "--idle-required", "soon"});
  EXPECT_EQ(run.process.exit_code, 2);
}

TEST(ProbeCommands, ProbeProxyNeedsAProxy) {
  Sandbox box;
  const auto run = gwprobe(box, {"probe", "proxy", "relay.test:443"});
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_THAT(run.process.err, HasSubstr("no proxy to probe (no proxy configured)"));
}

TEST(ProbeCommands, ProbeProxyAndProbeTlsThroughTheProxy) {
  Sandbox box;
  TlsServer server(good_tls());
  HttpProxy proxy(HttpProxyConfig{});
  const auto target = "relay.test:" + std::to_string(server.port());
  auto run =
      gwprobe(box, {"probe", "proxy", target, "--proxy", proxy.url(), "--direct", "-f", "json"});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out << run.process.err;
  EXPECT_EQ(run.report["results"][0]["facts"]["direct_diagnosis"], "OK");
  run = gwprobe(box, {"probe", "tls", target, "--proxy", proxy.url(), "--ca-file",
                      TestPki::get().public_root_file, "-f", "json"});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out << run.process.err;
  EXPECT_EQ(run.report["results"][0]["facts"]["proxy"], proxy.url());
}

/// The signature a relay would expect for the token's own sr and se.
std::string expected_signature(const std::string& token) {
  const auto field = [&](const std::string& name) {
    const auto start = token.find(name + "=") + name.size() + 1;
    return token.substr(start, token.find('&', start) - start);
  };
  const std::string to_sign = field("sr") + "\n" + field("se");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), kRelayKey, static_cast<int>(std::strlen(kRelayKey)),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &size);
  std::string b64(4 * ((size + 2) / 3) + 1, '\0');
  b64.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(size))));
  return core::percent_encode(b64);
}

TEST(ProbeCommands, ProbeWebSocketSendsASignedRelayTokenAndNeverPrintsTheKey) {
  Sandbox box;
  WebSocketServerConfig config;
  config.required_token_prefix = "SharedAccessSignature ";
  WebSocketServer server(config);
  const auto key_file = box.dir.write("gateway.key", std::string(kRelayKey) + "\n");
  const auto url =
      "ws://relay.test:" + std::to_string(server.port()) + "/$hc/gwprobe?sb-hc-action=listen";
  auto run = gwprobe(box, {"probe", "websocket", url, "-f", "json"});
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_EQ(run.report["results"][0]["diagnosis"], "RELAY_AUTH_FAILED");

  run = gwprobe(box, {"probe", "websocket", url, "-f", "json", "-v", "--sas-key-name", "gateway",
                      "--sas-key-file", key_file});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.out << run.process.err;
  expect_secret_absent(run, kRelayKey);
  const std::string token = server.last_header("ServiceBusAuthorization");
  EXPECT_THAT(token, HasSubstr("SharedAccessSignature sr=http%3A%2F%2Frelay.test%3A" +
                               std::to_string(server.port()) + "%2Fgwprobe&sig="));
  EXPECT_THAT(token, HasSubstr("&skn=gateway"));
  EXPECT_THAT(token, HasSubstr("&sig=" + expected_signature(token) + "&"));
  EXPECT_THAT(run.process.out, Not(HasSubstr("sig=")));  // the token itself is never shown

  run = gwprobe(box, {"probe", "websocket", url, "--sas-key-name", "gateway"});
  EXPECT_EQ(run.process.exit_code, 2);
}

TEST(ProbeCommands, ProbeIdleRunsTheLadderWithItsOwnTimeBudget) {
  Sandbox box;
  WebSocketServer server(WebSocketServerConfig{});
  IdleCutterConfig c;
  c.target_port = server.port();
  c.cut_after = std::chrono::milliseconds(500);
  c.how = IdleCutterConfig::How::rst;
  IdleCutter cutter(c);
  const auto url =
      "ws://relay.test:" + std::to_string(cutter.port()) + "/$hc/gwprobe?sb-hc-action=listen";
  // --timeout (1s) is shorter than the ladder: the idle kind adds the ladder's own time.
  const auto run = gwprobe(box, {"probe", "idle", url, "--idle-required", "2s", "--connections",
                                 "4", "--timeout", "1s", "-f", "json"});
  EXPECT_EQ(run.process.exit_code, 1) << run.process.out << run.process.err;
  const auto& r = run.report["results"][0];
  EXPECT_EQ(r["diagnosis"], "IDLE_CUT");
  EXPECT_EQ(r["facts"]["idle_cut_how"], "rst");
  EXPECT_EQ(r["facts"]["idle_rungs"].size(), 4u);
}

}  // namespace
}  // namespace gwprobe::testing
