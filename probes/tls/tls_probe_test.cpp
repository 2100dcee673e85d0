// The TLS check end to end on loopback: a fixture server per case, certificates generated in the
// test, transports opened by a plain loopback connect (the fd-based path the direct probe uses).
#include "probes/tls/tls_probe.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "probes/tls/cert_facts.hpp"
#include "probes/tls/trust_store.hpp"
#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/tls_server.hpp"

namespace gwprobe::probes::tls {
namespace {

using core::Diagnosis;
using core::Status;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TestCert;
using testing::TestPki;
using testing::TlsServer;
using testing::TlsServerConfig;

constexpr auto kTestBudget = std::chrono::seconds(10);

/// Opens a TCP connection to 127.0.0.1:port whatever the target says, and counts the opens.
TransportOpener loopback(std::uint16_t port, int* opens = nullptr) {
  return [port, opens](core::ProbeResult& into) -> std::unique_ptr<ByteStream> {
    if (opens != nullptr) ++*opens;
    core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      into.status = Status::fail;
      into.diagnosis = Diagnosis::tcp_refused;
      into.message = "connection refused";
      return nullptr;
    }
    return std::make_unique<SocketStream>(std::move(fd));
  };
}

ProbeContext context_with(core::Deadline deadline = core::Deadline::after(kTestBudget)) {
  ProbeContext c;
  c.deadline = deadline;
  return c;
}

/// Lab-style options: trust (and expect) the fake public root only.
TlsOptions lab_options() {
  TlsOptions o;
  o.use_system_store = false;
  o.ca_file = TestPki::get().public_root_file;
  return o;
}

TlsServerConfig serving(std::vector<TestCert> chain) {
  TlsServerConfig c;
  c.chain = std::move(chain);
  c.alpn = {"http/1.1"};
  return c;
}

core::ProbeResult check(const TlsServer& server, const TlsOptions& options,
                        const std::string& host = "relay.test",
                        const ProbeContext& context = context_with()) {
  core::ProbeResult r;
  auto session =
      run_tls_over(core::Target{host, server.port()}, options, context, loopback(server.port()), r);
  if (session) session->shutdown();
  return r;
}

std::string fact(const core::ProbeResult& r, const char* key) {
  return r.fact_text(key);
}

TEST(TlsProbe, AGoodChainToTheExpectedRootPassesWithItsFacts) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.leaf, pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_EQ(r.kind, "tls");
  EXPECT_EQ(fact(r, "tls_version"), "TLSv1.3");
  EXPECT_THAT(fact(r, "tls_cipher"), StartsWith("TLS_AES_"));
  EXPECT_EQ(fact(r, "tls_alpn"), "http/1.1");
  EXPECT_EQ(fact(r, "tls_sni"), "relay.test");
  EXPECT_EQ(server.last_sni(), "relay.test");
  EXPECT_EQ(fact(r, "chain_length"), "2");
  EXPECT_EQ(fact(r, "cert0_sha256"), pki.leaf.sha256());
  EXPECT_EQ(fact(r, "cert1_subject"), "CN=Fake Public TLS CA 01,O=Fake Public Trust");
  EXPECT_EQ(fact(r, "trust_anchor"), "Fake Public Root G2 (Fake Public Trust)");
  EXPECT_EQ(fact(r, "trust_anchor_sha256"), pki.public_root.sha256());
  EXPECT_EQ(fact(r, "tls_trust"), "expected");
  EXPECT_EQ(fact(r, "tls_trust_rule"), "V1");
  EXPECT_EQ(fact(r, "tls_problems"), "");
  const auto earliest = std::min({cert_facts(pki.leaf.cert()).not_after_unix,
                                  cert_facts(pki.public_intermediate.cert()).not_after_unix,
                                  cert_facts(pki.public_root.cert()).not_after_unix});
  EXPECT_EQ(fact(r, "cert_not_after_unix"), std::to_string(earliest));
  ASSERT_EQ(r.phases.size(), 1u);
  EXPECT_EQ(r.phases[0].name, "tls");
  EXPECT_THAT(r.message, HasSubstr("relay.test:"));
  EXPECT_THAT(r.message, HasSubstr("TLSv1.3"));
  EXPECT_TRUE(r.advice.empty());
}

TEST(TlsProbe, AnIpTargetSendsNoSniAndIsCheckedAgainstTheIpSan) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.leaf, pki.public_intermediate}));
  const auto r = check(server, lab_options(), "127.0.0.1");
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(server.last_sni(), "");
  EXPECT_EQ(fact(r, "tls_name_matches"), "true");
}

TEST(TlsProbe, TheServernameOverrideSetsSniAndTheNameChecked) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.wrong_name_leaf, pki.public_intermediate}));
  auto options = lab_options();
  options.servername = "other.test";
  const auto r = check(server, options, "127.0.0.1");
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(server.last_sni(), "other.test");
  EXPECT_THAT(r.message, HasSubstr("(other.test)"));
}

TEST(TlsProbe, SquidStyleBumpWithItsCaSentIsInterceptionNamingTheBumpCa) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.mitm_leaf, pki.mitm_ca}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_intercepted) << r.message;
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(fact(r, "issuing_ca"), "TL Bump CA");
  EXPECT_EQ(fact(r, "issuer"), "TL Bump CA");  // the key the rules' advice reads
  EXPECT_EQ(fact(r, "tls_trust_rule"), "U5");
  EXPECT_THAT(r.message, HasSubstr("chain is issued by 'TL Bump CA'"));
  EXPECT_THAT(r.message, HasSubstr("Fake Public Root G2"));
  EXPECT_THAT(r.advice, HasSubstr("bypass list"));
  EXPECT_EQ(fact(r, "cert1_subject"), "CN=TL Bump CA");  // the facts are kept for the report
  EXPECT_EQ(fact(r, "tls_name_matches"), "true");        // bump mimics the name
}

TEST(TlsProbe, ABumpThatDoesNotSendItsCaIsStillInterceptionNamingTheIssuer) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.mitm_leaf}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_intercepted) << r.message;
  EXPECT_EQ(fact(r, "issuing_ca"), "TL Bump CA");
}

TEST(TlsProbe, AnInspectionRootTheMachineTrustsIsInterceptionWhenItIsNotExpected) {
  const auto& pki = TestPki::get();
  auto options = lab_options();
  options.ca_file = testing::test_temp_dir() + "/public-and-corporate.pem";
  testing::write_pem_file(options.ca_file, {&pki.public_root, &pki.corporate_root});
  options.expected_root_sha1 = {pki.public_root.sha1()};
  options.expected_root_names = {"Fake Public Root G2"};
  {
    TlsServer server(serving({pki.corporate_leaf}));
    const auto r = check(server, options);
    EXPECT_EQ(r.diagnosis, Diagnosis::tls_intercepted) << r.message;
    EXPECT_EQ(fact(r, "tls_trust_rule"), "V2");
    EXPECT_EQ(fact(r, "trust_anchor"), "Zscaler Root CA (Zscaler Inc.)");
    EXPECT_EQ(fact(r, "issuing_ca"), "Zscaler Root CA (Zscaler Inc.)");
  }
  {
    // The same options on the uninspected path pass.
    TlsServer server(serving({pki.leaf, pki.public_intermediate}));
    const auto r = check(server, options);
    EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  }
}

TEST(TlsProbe, ASelfSignedCertificateIsUntrustedNotInterception) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.self_signed}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_untrusted) << r.message;
  EXPECT_EQ(fact(r, "tls_trust_rule"), "U3");
  EXPECT_THAT(r.message, HasSubstr("self-signed"));
}

TEST(TlsProbe, AnIncompleteChainFromTheExpectedPkiIsUntrustedNotInterception) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.leaf}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_untrusted) << r.message;
  EXPECT_EQ(fact(r, "tls_trust_rule"), "U4");
  EXPECT_THAT(r.message, HasSubstr("incomplete chain"));
  EXPECT_THAT(r.advice, HasSubstr("intermediate"));
}

TEST(TlsProbe, AnExpectedRootMissingFromTheTrustStoreIsUntrusted) {
  const auto& pki = TestPki::get();
  TlsOptions options;
  options.use_system_store = false;
  options.ca_file = pki.unrelated_root_file;
  options.expected_root_sha1 = {pki.public_root.sha1()};
  TlsServer server(serving({pki.leaf, pki.public_intermediate, pki.public_root}));
  const auto r = check(server, options);
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_untrusted) << r.message;
  EXPECT_EQ(fact(r, "tls_trust_rule"), "U2");
  EXPECT_THAT(r.advice, HasSubstr("Install 'Fake Public Root G2 (Fake Public Trust)'"));
}

TEST(TlsProbe, ACrossSignedIntermediateAnchoredAtItsTwinCountsAsExpected) {
  const auto& pki = TestPki::get();
  TlsOptions options;
  options.use_system_store = false;
  options.ca_file = testing::test_temp_dir() + "/public-and-twin.pem";
  testing::write_pem_file(options.ca_file, {&pki.public_root, &pki.twin_root});
  options.expected_root_sha1 = {pki.public_root.sha1()};
  TlsServer server(serving({pki.twin_leaf, pki.twin_issuing, pki.twin_cross}));
  const auto r = check(server, options);
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(fact(r, "tls_trust_rule"), "V1");
}

TEST(TlsProbe, AnAlteredSignatureIsInterception) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({testing::corrupt_signature(pki.leaf), pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_intercepted) << r.message;
  EXPECT_EQ(fact(r, "tls_trust_rule"), "U1");
}

TEST(TlsProbe, AnExpiredLeafIsReportedAsExpired) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.expired_leaf, pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_cert_expired) << r.message;
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.message, HasSubstr("certificate 'relay.test' expired on " + fact(r, "not_after")));
  EXPECT_THAT(r.message, HasSubstr("(1 day ago)"));
  EXPECT_EQ(fact(r, "tls_trust"), "expected");  // expiry does not make it untrusted
}

TEST(TlsProbe, ALeafNotYetValidIsReportedWithTheClockAdvice) {
  const auto& pki = TestPki::get();
  const TestCert future = testing::issue_cert({"relay.test",
                                               "",
                                               {"relay.test"},
                                               {},
                                               false,
                                               testing::KeyKind::ec_p256,
                                               std::chrono::hours(48),
                                               std::chrono::hours(24 * 90)},
                                              pki.public_intermediate);
  TlsServer server(serving({future, pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_cert_expired) << r.message;
  EXPECT_THAT(r.message, HasSubstr("certificate 'relay.test' is not valid before"));
  EXPECT_THAT(r.advice, HasSubstr("clock"));
}

TEST(TlsProbe, ALeafExpiringWithinTheWarningWindowIsAWarning) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.expiring_leaf, pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_cert_expiring) << r.message;
  EXPECT_EQ(r.status, Status::warn);
  EXPECT_THAT(r.message, HasSubstr("(in 3 days)"));

  auto short_window = lab_options();
  short_window.expiry_warning_days = 2;
  TlsServer again(serving({pki.expiring_leaf, pki.public_intermediate}));
  EXPECT_EQ(check(again, short_window).diagnosis, Diagnosis::ok);
}

TEST(TlsProbe, ACertificateForAnotherNameIsANameMismatch) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.wrong_name_leaf, pki.public_intermediate}));
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_name_mismatch) << r.message;
  EXPECT_THAT(r.message, HasSubstr("the certificate is for DNS:other.test, not 'relay.test'"));
}

TEST(TlsProbe, SpkiPinsPassWhenAnyChainKeyMatchesAndFailOtherwise) {
  const auto& pki = TestPki::get();
  auto pinned = lab_options();
  pinned.spki_pins = {"sha256//" + pki.public_intermediate.spki_sha256_base64()};
  {
    TlsServer server(serving({pki.leaf, pki.public_intermediate}));
    const auto r = check(server, pinned);
    EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
    EXPECT_EQ(fact(r, "tls_pin_match"), "true");
  }
  pinned.spki_pins = {pki.unrelated_root.spki_sha256_base64()};
  {
    TlsServer server(serving({pki.leaf, pki.public_intermediate}));
    const auto r = check(server, pinned);
    EXPECT_EQ(r.diagnosis, Diagnosis::tls_pin_mismatch) << r.message;
    EXPECT_EQ(fact(r, "tls_problems"), "TLS_PIN_MISMATCH");
  }
}

TEST(TlsProbe, ServersLimitedToTls10Or11AreTooOldAndTheVersionIsRecorded) {
  const auto& pki = TestPki::get();
  for (const auto& [version, name] :
       {std::pair{TLS1_VERSION, "TLSv1"}, std::pair{TLS1_1_VERSION, "TLSv1.1"}}) {
    auto config = serving({pki.leaf, pki.public_intermediate});
    config.min_version = version;
    config.max_version = version;
    config.security_level = 0;
    TlsServer server(config);
    const auto r = check(server, lab_options());
    EXPECT_EQ(r.diagnosis, Diagnosis::tls_version_too_old) << name << ": " << r.message;
    EXPECT_EQ(fact(r, "tls_version"), name);
    ASSERT_TRUE(server.wait_for_handshakes(1));
    EXPECT_EQ(server.last_version(), name);
    EXPECT_THAT(r.message, HasSubstr(std::string("only ") + name + " could be negotiated"));
    EXPECT_EQ(server.connections(), 2);  // the modern attempt, then the legacy one
    EXPECT_EQ(fact(r, "cert0_sha256"), pki.leaf.sha256());
  }
}

TEST(TlsProbe, ATls12OnlyServerPassesUnlessTheProfileDemands13) {
  const auto& pki = TestPki::get();
  auto config = serving({pki.leaf, pki.public_intermediate});
  config.max_version = TLS1_2_VERSION;
  {
    TlsServer server(config);
    const auto r = check(server, lab_options());
    EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
    EXPECT_EQ(fact(r, "tls_version"), "TLSv1.2");
    EXPECT_THAT(fact(r, "tls_cipher"), StartsWith("TLS_ECDHE_ECDSA_WITH_"));
  }
  {
    TlsServer server(config);
    auto options = lab_options();
    options.min_version = MinVersion::tls1_3;
    const auto r = check(server, options);
    EXPECT_EQ(r.diagnosis, Diagnosis::tls_version_too_old) << r.message;
    EXPECT_THAT(r.message, HasSubstr("negotiated TLSv1.2 but the profile requires TLS 1.3"));
  }
}

TEST(TlsProbe, ASilentServerFailsAtTheDeadlineSayingNoServerHello) {
  auto config = serving({TestPki::get().leaf});
  config.mode = TlsServerConfig::Mode::silent;
  TlsServer server(config);
  const auto budget = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  const auto r =
      check(server, lab_options(), "relay.test", context_with(core::Deadline::after(budget)));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_handshake_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("no ServerHello"));
  EXPECT_GE(elapsed, budget);       // it waited for the deadline...
  EXPECT_LT(elapsed, kTestBudget);  // ...and not for anything longer
  ASSERT_TRUE(server.wait_for_connections(1));
  EXPECT_EQ(server.connections(), 1);  // a timeout is not retried
  EXPECT_EQ(fact(r, "tls_bytes_received"), "0");
}

TEST(TlsProbe, CancellingWakesTheHandshakeAtOnce) {
  auto config = serving({TestPki::get().leaf});
  config.mode = TlsServerConfig::Mode::silent;
  TlsServer server(config);
  const auto context = context_with(core::Deadline::never());
  std::thread canceller([&] {
    if (server.wait_for_connections(1)) context.cancel.cancel();
  });
  const auto r = check(server, lab_options(), "relay.test", context);
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.message;
  EXPECT_EQ(r.status, Status::error);
}

TEST(TlsProbe, APlainHttpServerDoesNotSpeakTlsAndIsNotRetried) {
  auto config = serving({});
  config.mode = TlsServerConfig::Mode::plain_http;
  TlsServer server(config);
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_handshake_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("does not speak TLS"));
  EXPECT_EQ(server.connections(), 1);
}

TEST(TlsProbe, AnAlertFromTheServerIsNamedInTheMessage) {
  auto config = serving({TestPki::get().leaf, TestPki::get().public_intermediate});
  config.alpn = {"h2"};  // we offer only http/1.1: the server must refuse
  TlsServer server(config);
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_handshake_failed) << r.message;
  EXPECT_THAT(r.message, HasSubstr("alert 'no application protocol'"));
  EXPECT_EQ(fact(r, "tls_alert"), "no application protocol");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_FALSE(fact(r, "tls_legacy_attempt").empty());
}

TEST(TlsProbe, TheSessionCarriesDataForTheProbesBuiltOnTop) {
  auto config = serving({TestPki::get().leaf, TestPki::get().public_intermediate});
  config.mode = TlsServerConfig::Mode::echo;
  TlsServer server(config);
  core::ProbeResult r;
  const auto context = context_with();
  auto session = run_tls_over(core::Target{"relay.test", server.port()}, lab_options(), context,
                              loopback(server.port()), r);
  ASSERT_TRUE(session) << r.message;
  const std::string ping = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(session->write_all(std::as_bytes(std::span(ping)), context.deadline, context.cancel));
  std::string got;
  std::byte buf[64];
  while (got.size() < ping.size()) {
    auto n = session->read_some(buf, context.deadline, context.cancel);
    ASSERT_TRUE(n) << n.error().describe();
    ASSERT_GT(*n, 0u);
    got.append(reinterpret_cast<const char*>(buf), *n);
  }
  EXPECT_EQ(got, ping);
}

TEST(TlsProbe, AReadOnASilentSessionEndsAtItsDeadline) {
  auto config = serving({TestPki::get().leaf, TestPki::get().public_intermediate});
  config.mode = TlsServerConfig::Mode::echo;
  TlsServer server(config);
  core::ProbeResult r;
  const auto context = context_with();
  auto session = run_tls_over(core::Target{"relay.test", server.port()}, lab_options(), context,
                              loopback(server.port()), r);
  ASSERT_TRUE(session) << r.message;
  std::byte buf[16];
  auto n =
      session->read_some(buf, core::Deadline::after(std::chrono::milliseconds(50)), context.cancel);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().kind, core::FailureKind::timeout);
}

TEST(TlsProbe, ATransportThatCannotOpenKeepsTheOpenersDiagnosis) {
  core::ProbeResult r;
  int opens = 0;
  // Port 1 on loopback: nothing listens there.
  auto session = run_tls_over(core::Target{"relay.test", 1}, lab_options(), context_with(),
                              loopback(1, &opens), r);
  EXPECT_FALSE(session);
  EXPECT_EQ(opens, 1);
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused);
}

TEST(TlsProbe, BadOptionsAndMissingFilesAreProbeErrorsWithAClearMessage) {
  int opens = 0;
  {
    auto options = lab_options();
    options.expected_root_sha1 = {"abc"};
    core::ProbeResult r;
    EXPECT_FALSE(run_tls_over(core::Target{"relay.test", 1}, options, context_with(),
                              loopback(1, &opens), r));
    EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
    EXPECT_EQ(r.status, Status::error);
    EXPECT_EQ(r.message,
              "invalid TLS options: fingerprint 'abc': expected a SHA-1 of 40 hex digits, got 3");
  }
  {
    auto options = lab_options();
    options.ca_file = "/nonexistent/ca.pem";
    core::ProbeResult r;
    EXPECT_FALSE(run_tls_over(core::Target{"relay.test", 1}, options, context_with(),
                              loopback(1, &opens), r));
    EXPECT_EQ(r.diagnosis, Diagnosis::probe_error);
    EXPECT_EQ(r.message,
              "CA file '/nonexistent/ca.pem' cannot be read (No such file or directory)");
  }
  EXPECT_EQ(opens, 0);  // nothing was sent anywhere
}

TEST(TlsProbe, AnRsaLeafOverTls12ReportsItsKey) {
  const auto& pki = TestPki::get();
  auto config = serving({pki.rsa_leaf, pki.public_intermediate});
  config.max_version = TLS1_2_VERSION;
  TlsServer server(config);
  const auto r = check(server, lab_options());
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(fact(r, "cert0_key"), "RSA 2048");
  EXPECT_EQ(fact(r, "cert1_key"), "EC P-256");
  EXPECT_THAT(fact(r, "tls_cipher"), StartsWith("TLS_ECDHE_RSA_WITH_"));
}

TEST(TlsProbe, ProbesRunningInParallelShareTheCachedTrustStore) {
  // A check runs many TLS probes at once against one CA bundle (and the system store).
  constexpr int kThreads = 6;
  constexpr int kProbesEach = 3;
  if (!load_system_certificates()) GTEST_SKIP() << "no system trust store on this machine";
  const auto& pki = TestPki::get();
  auto options = lab_options();
  options.use_system_store = true;
  options.expected_root_sha1 = {pki.public_root.sha1()};
  std::vector<std::unique_ptr<TlsServer>> servers;
  for (int i = 0; i < kThreads; ++i) {
    servers.push_back(std::make_unique<TlsServer>(serving({pki.leaf, pki.public_intermediate})));
  }
  std::vector<int> passed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kProbesEach; ++n) {
        passed[i] += check(*servers[i], options).diagnosis == Diagnosis::ok ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(passed[i], kProbesEach) << "thread " << i;
}

// run_tls_probe: the direct probe, through tcp::connect_tcp (IP literals: no resolver involved).

TEST(RunTlsProbe, OneResultCarriesTheConnectAndTlsPhasesAndFacts) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.leaf, pki.public_intermediate}));
  auto options = lab_options();
  options.servername = "relay.test";
  const auto r = run_tls_probe(core::Target{"127.0.0.1", server.port()}, options, context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_EQ(r.kind, "tls");
  EXPECT_EQ(r.target, "127.0.0.1:" + std::to_string(server.port()));
  std::vector<std::string> phases;
  for (const auto& p : r.phases) phases.push_back(p.name);
  EXPECT_EQ(phases, (std::vector<std::string>{"connect", "tls"}));
  EXPECT_EQ(fact(r, "connected_to"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.last_sni(), "relay.test");
  EXPECT_EQ(fact(r, "tls_version"), "TLSv1.3");
}

TEST(RunTlsProbe, AClosedPortStopsAtTheTcpLayerWithItsDiagnosis) {
  core::UniqueFd closed(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof where;
  ASSERT_EQ(::bind(closed.get(), reinterpret_cast<sockaddr*>(&where), length), 0);
  ::getsockname(closed.get(), reinterpret_cast<sockaddr*>(&where), &length);
  const auto r = run_tls_probe(core::Target{"127.0.0.1", ntohs(where.sin_port)}, lab_options(),
                               context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused) << r.message;
  EXPECT_EQ(r.status, Status::fail);
  for (const auto& p : r.phases) EXPECT_NE(p.name, "tls");
}

TEST(RunTlsProbe, ServersLimitedToTls10AreTooOldThroughTheDirectProbeToo) {
  const auto& pki = TestPki::get();
  auto config = serving({pki.leaf, pki.public_intermediate});
  config.min_version = TLS1_VERSION;
  config.max_version = TLS1_VERSION;
  config.security_level = 0;
  TlsServer server(config);
  const auto r =
      run_tls_probe(core::Target{"127.0.0.1", server.port()}, lab_options(), context_with());
  EXPECT_EQ(r.diagnosis, Diagnosis::tls_version_too_old) << r.message;
  EXPECT_EQ(fact(r, "tls_version"), "TLSv1");
  EXPECT_EQ(server.connections(), 2);
}

TEST(RunTlsProbe, CancellationDuringTheHandshakeIsReportedAsCancelled) {
  auto config = serving({TestPki::get().leaf});
  config.mode = TlsServerConfig::Mode::silent;
  TlsServer server(config);
  const auto context = context_with(core::Deadline::never());
  std::thread canceller([&] {
    if (server.wait_for_connections(1)) context.cancel.cancel();
  });
  const auto r = run_tls_probe(core::Target{"127.0.0.1", server.port()}, lab_options(), context);
  canceller.join();
  EXPECT_EQ(r.diagnosis, Diagnosis::probe_cancelled) << r.message;
}

}  // namespace
}  // namespace gwprobe::probes::tls
