// CLI contract tests: the real binary, its exit codes and its messages.
#include <gtest/gtest.h>

#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::testing {
namespace {

ProcessResult gwprobe(std::vector<std::string> args) {
  args.insert(args.begin(), gwprobe_binary());
  return run_process(args);
}

TEST(Cli, VersionPrintsTheToolVersionAndExitsZero) {
  auto r = gwprobe({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("gwprobe 0."), std::string::npos) << r.out;
}

TEST(Cli, HelpListsTheSubcommandsAndExitsZero) {
  auto r = gwprobe({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("codes"), std::string::npos);
}

TEST(Cli, NoSubcommandIsAUsageErrorWithExitCode2) {
  auto r = gwprobe({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos);
}

TEST(Cli, AnUnknownSubcommandIsNamedInTheUsageError) {
  auto r = gwprobe({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
}

TEST(Cli, AnUnknownOptionIsAUsageError) {
  auto r = gwprobe({"codes", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
}

TEST(Cli, CodesListsEveryStableDiagnosisCode) {
  auto r = gwprobe({"codes", "--markdown"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("| `TLS_INTERCEPTED` | tls |"), std::string::npos);
  EXPECT_NE(r.out.find("| `FW_BLOCKS_REQUIRED` |"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::testing
