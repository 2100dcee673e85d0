// CLI contract tests: the real binary, its exit codes and its messages.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

namespace gwprobe::testing {
namespace {

TEST(Readme, DiagnosisCodeTableMatchesTheBinary) {
  // The README's table is the output of `gwprobe codes --markdown`; they must not drift apart.
  std::ifstream in(std::string(GWPROBE_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto begin = readme.find("<!-- codes-table:begin -->\n");
  const auto end = readme.find("<!-- codes-table:end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::string table = readme.substr(begin + 27, end - begin - 27);
  auto r = run_process({gwprobe_binary(), "codes", "--markdown"});
  EXPECT_EQ(table, r.out) << "regenerate with: scripts/update-readme-codes.sh";
}

}  // namespace
}  // namespace gwprobe::testing
