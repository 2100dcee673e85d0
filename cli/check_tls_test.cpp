// `check` and `probe tls` with TLS endpoints: a good chain passes, a re-signed one is intercepted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"
#include "tests/fixtures/tls_server.hpp"

namespace gwprobe::testing {
namespace {
using nlohmann::json;

json run_json(std::vector<std::string> args, int expected_exit) {
  args.insert(args.begin(), gwprobe_binary());
  auto r = run_process(args);
  EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
  try {
    return json::parse(r.out);
  } catch (const std::exception&) {
    ADD_FAILURE() << r.out << r.err;
    return json::object();
  }
}

/// A profile whose TLS expectations are the fake public root; the machine (ca_file) also
/// trusts a corporate inspection root, as a managed laptop would.
std::string tls_profile(const ScratchDir& dir, std::uint16_t port) {
  const auto& pki = TestPki::get();
  const auto bundle = dir.path() + "/machine-roots.pem";
  write_pem_file(bundle, {&pki.public_root, &pki.corporate_root});
  return dir.write("tls.toml", "name = \"tls\"\ntimeout = \"3s\"\n[tls]\nca_file = \"" + bundle +
                                   "\"\n[[tls.expected_root]]\nname = \"Fake Public Root G2\"\n"
                                   "sha1 = \"" +
                                   pki.public_root.sha1() +
                                   "\"\n[[endpoint]]\nname = \"Relay\"\nhost = \"127.0.0.1\"\n"
                                   "ports = [" +
                                   std::to_string(port) + "]\ntls = true\n");
}

TlsServerConfig serving(std::vector<TestCert> chain) {
  TlsServerConfig config;
  config.chain = std::move(chain);
  return config;
}

TEST(CheckTls, APublicChainToAnExpectedRootPassesWithVersionFacts) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.leaf, pki.public_intermediate}));
  ScratchDir dir;
  const auto report =
      run_json({"check", "--profile", tls_profile(dir, server.port()), "--format", "json"}, 0);
  ASSERT_EQ(report["results"].size(), 2u);
  const auto& tls = report["results"][1];
  EXPECT_EQ(tls["id"], "tls:127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(tls["diagnosis"], "OK");
  EXPECT_TRUE(tls["phases"].contains("tls"));
  EXPECT_NE(tls["facts"].dump().find("TLSv1.3"), std::string::npos);
}

TEST(CheckTls, ARechainToACorporateRootIsInterceptionNamingTheInspectionCa) {
  const auto& pki = TestPki::get();
  TlsServer server(serving({pki.corporate_leaf}));
  ScratchDir dir;
  const auto report =
      run_json({"check", "--profile", tls_profile(dir, server.port()), "--format", "json"}, 1);
  const auto& tls = report["results"][1];
  EXPECT_EQ(tls["diagnosis"], "TLS_INTERCEPTED");
  EXPECT_NE(tls["message"].get<std::string>().find("Zscaler"), std::string::npos) << tls["message"];
  EXPECT_NE(tls["advice"].get<std::string>().find("bypass"), std::string::npos) << tls["advice"];
}

TEST(CheckTls, TlsIsSkippedWhenTheTcpCheckBelowItFails) {
  ScratchDir dir;
  const auto report = run_json({"check", "--profile", tls_profile(dir, 1), "--format", "json"}, 1);
  EXPECT_EQ(report["results"][1]["status"], "skip");
  EXPECT_EQ(report["results"][1]["diagnosis"], "TCP_REFUSED");
}

TEST(ProbeTls, TrustsOnlyTheGivenCaFile) {
  const auto& pki = TestPki::get();
  TlsServer good(serving({pki.leaf, pki.public_intermediate}));
  const auto ok = run_json({"probe", "tls", "127.0.0.1:" + std::to_string(good.port()), "--ca-file",
                            pki.public_root_file, "--format", "json"},
                           0);
  EXPECT_EQ(ok["results"][0]["diagnosis"], "OK");
  TlsServer self(serving({pki.self_signed}));
  const auto bad =
      run_json({"probe", "tls", "127.0.0.1:" + std::to_string(self.port()), "--servername",
                "relay.test", "--ca-file", pki.public_root_file, "--format", "json"},
               1);
  EXPECT_EQ(bad["results"][0]["diagnosis"], "TLS_UNTRUSTED");
}

}  // namespace
}  // namespace gwprobe::testing
