// `gwprobe gateway keygen`, `seal`, `sample-db` and `run`'s input checks, as a user runs them.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::ScratchDir;

ProcessResult gwprobe(std::vector<std::string> args) {
  args.insert(args.begin(), testing::gwprobe_binary());
  return testing::run_process(args);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(CliGateway, KeygenWritesAPrivateKeyOnlyTheOwnerReadsAndRefusesToOverwrite) {
  ScratchDir scratch;
  const auto dir = scratch.path() + "/id";
  auto r = gwprobe({"gateway", "keygen", "--out", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir + "/gateway-identity.key"), 0600u);
  EXPECT_THAT(slurp(dir + "/gateway-identity.key"), HasSubstr("PRIVATE KEY"));
  EXPECT_THAT(slurp(dir + "/gateway-identity.pub"), HasSubstr("PUBLIC KEY"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("PRIVATE KEY")));
  const auto before = slurp(dir + "/gateway-identity.key");
  auto again = gwprobe({"gateway", "keygen", "--out", dir});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.err, HasSubstr("--force"));
  EXPECT_EQ(slurp(dir + "/gateway-identity.key"), before);
  EXPECT_EQ(gwprobe({"gateway", "keygen", "--out", dir, "--force"}).exit_code, 0);
  EXPECT_NE(slurp(dir + "/gateway-identity.key"), before);
}

TEST(CliGateway, SealPrintsASealedValueAndNeverTheSecret) {
  ScratchDir scratch;
  ASSERT_EQ(gwprobe({"gateway", "keygen", "--out", scratch.path()}).exit_code, 0);
  const auto secret = scratch.write("db.password", "correct-horse-battery\n");
  auto r = gwprobe({"gateway", "seal", "--public-key", scratch.path() + "/gateway-identity.pub",
                    "--secret-file", secret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("gwp-sealed-v1:", 0), 0u) << r.out;
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("correct-horse")));
  auto bad_key = gwprobe({"gateway", "seal", "--public-key", secret, "--secret-file", secret});
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_THAT(bad_key.err, Not(HasSubstr("correct-horse")));
  auto missing = gwprobe(
      {"gateway", "seal", "--public-key", scratch.path() + "/nope.pub", "--secret-file", secret});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.pub"));
}

TEST(CliGateway, SampleDbWritesTheDemoDatabase) {
  ScratchDir scratch;
  const auto db = scratch.path() + "/sample.db";
  auto r = gwprobe({"gateway", "sample-db", "--out", db, "--rows", "50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(std::filesystem::file_size(db), 0u);
  EXPECT_EQ(gwprobe({"gateway", "sample-db", "--out", db, "--rows", "-1"}).exit_code, 2);
}

TEST(CliGateway, RunRejectsBadFlagsAndFilesWithExit2AndNeverQuotesTheKey) {
  ScratchDir scratch;
  const auto key = scratch.write("gateway.key", "super-secret-listen-key\n");
  const auto db = scratch.path() + "/sample.db";
  ASSERT_EQ(gwprobe({"gateway", "sample-db", "--out", db, "--rows", "5"}).exit_code, 0);
  const std::vector<std::string> good = {
      "gateway",    "run",     "--relay",    "wss://127.0.0.1:1/$hc/demo",
      "--key-name", "gateway", "--key-file", key};
  const auto with = [&](std::vector<std::string> extra) {
    auto args = good;
    args.insert(args.end(), extra.begin(), extra.end());
    return gwprobe(args);
  };
  struct Case {
    std::vector<std::string> extra;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{}, "--datasources"},
      {{"--datasource-sqlite", db, "--datasources", db}, "exactly one"},
      {{"--datasource-sqlite", scratch.path() + "/missing.db"}, "missing.db"},
      {{"--datasource-sqlite", db, "--workers", "0"}, "--workers"},
      {{"--datasource-sqlite", db, "--ca-file", scratch.path() + "/none.pem"}, "none.pem"},
      {{"--datasource-sqlite", db, "--identity", scratch.path() + "/none.key"}, "--identity"},
      {{"--datasource-sqlite", db, "--token-ttl", "soon"}, "--token-ttl"},
      {{"--datasource-sqlite", db, "--proxy", "ftp://proxy:21"}, "proxy"},
      {{"--datasources", scratch.write("bad.toml", "[[datasource]]\nname = 1\n")}, "bad.toml"},
  };
  for (const auto& c : cases) {
    auto r = with(c.extra);
    EXPECT_EQ(r.exit_code, 2) << c.says << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says));
    EXPECT_THAT(r.err, Not(HasSubstr("super-secret")));
  }
  auto bad_url = gwprobe({"gateway", "run", "--relay", "https://relay/x", "--key-name", "g",
                          "--key-file", key, "--datasource-sqlite", db});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_THAT(bad_url.err, HasSubstr("--relay"));
  auto no_key = gwprobe({"gateway", "run", "--relay", "wss://127.0.0.1:1/$hc/demo", "--key-name",
                         "g", "--key-file", scratch.path() + "/nokey", "--datasource-sqlite", db});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_EQ(gwprobe({"gateway"}).exit_code, 2);
}

}  // namespace
}  // namespace gwprobe::cli
