// `gwprobe relay`, `relay init` and `relay token` as a user runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/protocol/keys_file.hpp"
#include "gateway/protocol/sas.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

ProcessResult gwprobe(std::vector<std::string> args, ProcessOptions options = {}) {
  args.insert(args.begin(), gwprobe_binary());
  return run_process(args, options);
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gwprobe-cli-relay-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(CliRelay, InitWritesTheDemoFilesWithSecretsReadableOnlyByTheOwner) {
  const auto dir = fresh_dir("init");
  auto r = gwprobe({"relay", "init", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* secret : {"server.key", "keys.toml", "gateway.key", "client.key"}) {
    EXPECT_EQ(mode_of(dir / secret), 0600u) << secret;
  }
  EXPECT_NE(slurp(dir / "ca.pem").find("BEGIN CERTIFICATE"), std::string::npos);
  auto keys = gateway::protocol::load_keys_file((dir / "keys.toml").string());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_TRUE(keys->warnings.empty());
  EXPECT_EQ(keys->keys.find("gateway")->key.reveal(), slurp(dir / "gateway.key"));
  EXPECT_EQ(keys->keys.find("client")->key.reveal(), slurp(dir / "client.key"));
  EXPECT_EQ(r.out.find(slurp(dir / "gateway.key")), std::string::npos);  // keys are never printed
  auto again = gwprobe({"relay", "init", dir.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("exists (use --force"), std::string::npos) << again.err;
  EXPECT_EQ(gwprobe({"relay", "init", dir.string(), "--force"}).exit_code, 0);
  std::filesystem::remove_all(dir);
}

TEST(CliRelay, TokenMintsAVerifiableTokenFromTheKeysFileOrARawKeyFile) {
  const auto dir = fresh_dir("token");
  ASSERT_EQ(gwprobe({"relay", "init", dir.string()}).exit_code, 0);
  auto keys = gateway::protocol::load_keys_file((dir / "keys.toml").string());
  ASSERT_TRUE(keys);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& source :
       std::vector<std::vector<std::string>>{{"--keys-file", (dir / "keys.toml").string()},
                                             {"--key-file", (dir / "gateway.key").string()}}) {
    std::vector<std::string> args = {
        "relay",   "token", "--rule",
        "gateway", "--uri", "wss://localhost:9443/$hc/gwprobe-demo?sb-hc-action=listen",
        "--ttl",   "10m"};
    args.insert(args.end(), source.begin(), source.end());
    auto r = gwprobe(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string token = r.out;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    EXPECT_EQ(token.rfind(
                  "SharedAccessSignature sr=http%3A%2F%2Flocalhost%3A9443%2Fgwprobe-demo&sig=", 0),
              0u)
        << token;
    const auto verdict = gateway::protocol::verify_sas_token(
        token, keys->keys, {"gwprobe-demo", gateway::protocol::Right::listen, now});
    EXPECT_TRUE(verdict.ok()) << verdict.reason;
    EXPECT_LE(verdict.expires_at, now + 601);
  }
  std::filesystem::remove_all(dir);
}

TEST(CliRelay, TokenAndRunRejectBadInputWithExitCode2) {
  const auto dir = fresh_dir("bad");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "keys.toml") << "[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = [\"Fly\"]\n";
  auto bad_keys =
      gwprobe({"relay", "--keys-file", (dir / "keys.toml").string(), "--cert", "c", "--key", "k"});
  EXPECT_EQ(bad_keys.exit_code, 2);
  EXPECT_NE(bad_keys.err.find("keys.toml:4:11: unknown right 'Fly'"), std::string::npos)
      << bad_keys.err;
  auto no_uri =
      gwprobe({"relay", "token", "--rule", "a", "--keys-file", (dir / "keys.toml").string()});
  EXPECT_EQ(no_uri.exit_code, 2);
  EXPECT_NE(no_uri.err.find("--uri is required"), std::string::npos);
  auto bad_routing = gwprobe({"relay", "--dir", dir.string(), "--routing", "random"});
  EXPECT_EQ(bad_routing.exit_code, 2);
  EXPECT_NE(bad_routing.err.find("--routing: expected round-robin or failover"), std::string::npos);
  auto bad_listen = gwprobe({"relay", "--dir", dir.string(), "--listen", "nowhere"});
  EXPECT_EQ(bad_listen.exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(CliRelay, RunsOnLoopbackAndStopsCleanlyOnSigterm) {
  const auto dir = fresh_dir("run");
  ASSERT_EQ(gwprobe({"relay", "init", dir.string()}).exit_code, 0);
  ProcessOptions options;
  options.signal = SIGTERM;
  options.signal_after = std::chrono::milliseconds(1500);
  options.timeout = std::chrono::milliseconds(20000);
  auto r = gwprobe({"relay", "--dir", dir.string(), "--listen", "127.0.0.1:0"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.err.find("\"event\":\"relay_listening\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"event\":\"relay_stopped\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(slurp(dir / "gateway.key")), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gwprobe::testing
