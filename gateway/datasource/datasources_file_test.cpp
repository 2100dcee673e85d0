// The data-sources file: every rejection, one testdata/invalid-*.toml each whose first line is
// "# expect: <the exact message>", and what an accepted file turns into.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gateway/datasource/datasource.hpp"

namespace gwprobe::gateway::datasource {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExpectPrefix = "# expect: ";

fs::path testdata_dir() {
  return fs::path(GWPROBE_SOURCE_DIR) / "gateway" / "datasource" / "testdata";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> invalid_files() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(testdata_dir())) {
    const auto name = entry.path().filename().string();
    if (name.rfind("invalid-", 0) == 0 && entry.path().extension() == ".toml") {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class InvalidDataSources : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidDataSources, IsRejectedWithItsExactMessageAndNoPassword) {
  const std::string text = read_text(testdata_dir() / GetParam());
  ASSERT_EQ(text.rfind(kExpectPrefix, 0), 0u) << GetParam() << " lacks its '# expect:' line";
  const auto expected = text.substr(kExpectPrefix.size(), text.find('\n') - kExpectPrefix.size());

  auto configs = parse_datasources(text, GetParam());
  ASSERT_FALSE(configs) << GetParam() << " was accepted";
  EXPECT_EQ(configs.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(configs.error().message, expected);
  EXPECT_EQ(configs.error().message.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(configs.error().message.find("TopSecret1"), std::string::npos) << "no passwords";
}

INSTANTIATE_TEST_SUITE_P(Testdata, InvalidDataSources, ::testing::ValuesIn(invalid_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param.substr(8, param.param.size() - 8 - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(InvalidDataSourcesTestdata, CoversEveryRejectionTheBriefLists) {
  const auto names = invalid_files();
  for (const char* required :
       {"invalid-unknown-key.toml", "invalid-missing-name.toml", "invalid-missing-kind.toml",
        "invalid-duplicate-name.toml", "invalid-bad-kind.toml", "invalid-sqlite-without-path.toml",
        "invalid-postgres-without-conninfo.toml", "invalid-clear-password.toml",
        "invalid-conninfo-password.toml", "invalid-conninfo-uri-password.toml",
        "invalid-sealed-password-in-clear.toml", "invalid-malformed.toml"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

TEST(DataSourcesFile, AcceptsEveryKindAndResolvesRelativeSqlitePathsAgainstTheFile) {
  const auto path = testdata_dir() / "valid.toml";
  auto configs = load_datasources(path.string());
  ASSERT_TRUE(configs) << configs.error().message;
  ASSERT_EQ(configs->size(), 4u);

  const auto& sample = (*configs)[0];
  EXPECT_EQ(sample.name, "sample");
  EXPECT_EQ(sample.kind, "sqlite");
  EXPECT_EQ(sample.path, (testdata_dir() / "sample.db").lexically_normal().string());
  EXPECT_EQ(sample.sealed_password, std::nullopt);

  const auto& orders = (*configs)[1];
  EXPECT_EQ(orders.kind, "postgres");
  EXPECT_EQ(orders.conninfo,
            "host=127.0.0.1 port=5432 dbname=orders user=gateway passfile=/etc/gwprobe/pgpass");
  EXPECT_EQ(orders.sealed_password, std::optional<std::string>("gwp-sealed-v1:AAAA"));
  EXPECT_TRUE(orders.path.empty());

  EXPECT_EQ((*configs)[2].conninfo, "postgresql://gateway@127.0.0.1:5432/orders?connect_timeout=5");
  EXPECT_EQ((*configs)[3].path, "/var/lib/gwprobe/sample.db");
}

TEST(DataSourcesFile, AMissingFileIsNotFoundAndNamesThePath) {
  auto configs = load_datasources("/nonexistent/gwprobe/datasources.toml");
  ASSERT_FALSE(configs);
  EXPECT_EQ(configs.error().kind, core::FailureKind::not_found);
  EXPECT_NE(configs.error().message.find("/nonexistent/gwprobe/datasources.toml"),
            std::string::npos);
}

TEST(DataSourcesFile, ErrorsFromAFileNameItsPath) {
  const auto path = testdata_dir() / "invalid-bad-kind.toml";
  auto configs = load_datasources(path.string());
  ASSERT_FALSE(configs);
  EXPECT_EQ(configs.error().message.rfind(path.string() + ":4:8: ", 0), 0u)
      << configs.error().message;
}

}  // namespace
}  // namespace gwprobe::gateway::datasource
