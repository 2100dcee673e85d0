// Every rejection the profile loader makes, one rules/testdata/invalid-*.toml each. The first line
// of each file is "# expect: <the exact error message>"; this table loads them all and compares.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "rules/profile.hpp"

namespace gwprobe::rules {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExpectPrefix = "# expect: ";

fs::path testdata_dir() {
  return fs::path(GWPROBE_SOURCE_DIR) / "rules" / "testdata";
}

std::vector<std::string> invalid_profiles() {
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

class InvalidProfile : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidProfile, IsRejectedWithItsExactMessage) {
  const auto path = testdata_dir() / GetParam();
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_EQ(text.rfind(kExpectPrefix, 0), 0u) << GetParam() << " lacks its '# expect:' line";
  const auto expected = text.substr(kExpectPrefix.size(), text.find('\n') - kExpectPrefix.size());

  auto profile = parse_profile(text, GetParam());
  ASSERT_FALSE(profile) << GetParam() << " was accepted";
  EXPECT_EQ(profile.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(profile.error().message, expected);
  EXPECT_EQ(profile.error().message.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(profile.error().message.find("TopSecret1"), std::string::npos) << "no secrets";
}

INSTANTIATE_TEST_SUITE_P(Testdata, InvalidProfile, ::testing::ValuesIn(invalid_profiles()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param.substr(8, param.param.size() - 8 - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(InvalidProfileTestdata, CoversEveryRejectionTheBriefLists) {
  const auto names = invalid_profiles();
  for (const char* required :
       {"invalid-malformed-toml.toml", "invalid-unknown-key-top.toml",
        "invalid-wrong-type-port.toml", "invalid-bad-port-zero.toml",
        "invalid-bad-port-too-large.toml", "invalid-bad-port-range-reversed.toml",
        "invalid-bad-duration.toml", "invalid-bad-host.toml", "invalid-missing-name.toml",
        "invalid-bad-requirement.toml", "invalid-bad-tls-version.toml",
        "invalid-bad-fingerprint-hex.toml", "invalid-duplicate-endpoint-name.toml"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

}  // namespace
}  // namespace gwprobe::rules
